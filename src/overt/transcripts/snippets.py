"""The transcript snippet of a search hit: the words around the first hit of a query's
terms in each listed recording's current transcript, and the second they were said.
Only for recordings the viewer may play (a snippet is as telling as the footage)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from django.db import connection
from django.urls import reverse
from django.utils.safestring import SafeString

from overt.access.services import Action, User, permitted
from overt.evidence.catalogue import search_terms
from overt.evidence.models import Recording

from . import words as wordlib
from .models import SpeechIndex, TranscriptVersion

SNIPPET_WORDS = 8  # either side of the hit


@dataclass(frozen=True, slots=True)
class Snippet:
    original: int
    at_s: float  # seconds into that original (its player seeks there)
    text: str  # plain words around the hit
    html: SafeString  # the same, escaped, with the hit in <mark>
    url: str  # the recording page, opening that clip at that second


def snippets(user: User | None, recordings: Iterable[Recording], q: str) -> dict[int, Snippet]:
    """For each of `recordings` (already visible) whose current transcript has a term of
    `q`, where: the first hit of the first term found. Only where `user` may play it.

    The hit is looked for in the index's tokens first; only the transcripts with a hit
    have their words (the long JSON) read, one per recording."""
    terms = [wordlib.Term(tuple(t)) for t in (wordlib.tokens(x) for x in search_terms(q)) if t]
    ids = [r.pk for r in recordings]
    if not terms or not ids:
        return {}
    playable = set(
        permitted(user, Action.STREAM, Recording.objects.filter(pk__in=ids)).values_list(
            "pk", flat=True
        )
    )
    rows = (
        SpeechIndex.objects.filter(recording_id__in=playable)
        .order_by("recording_id", "original_id")
        .values_list("recording_id", "original_id", "version_id", "tokens")
    )
    hits: dict[int, _Hit] = {}
    for recording_id, original_id, version_id, tokens in rows:
        if recording_id in hits:
            continue
        flat = tokens.split()
        if (at := _first_token_hit(flat, terms)) is not None:
            hits[recording_id] = _Hit(original_id, version_id, at[0], at[1], flat)
    slices = _word_slices(hits)
    out: dict[int, Snippet] = {}
    recording_url = reverse("recording", args=[0]).replace("/0/", "/{}/")
    for recording_id, found in slices.items():
        original_id = hits[recording_id].original
        words, lo, start, end, more = found
        before = " ".join(str(w[0]) for w in words[: start - lo])
        hit = " ".join(str(w[0]) for w in words[start - lo : end - lo])
        after = " ".join(str(w[0]) for w in words[end - lo :])
        lead, tail = ("… " if lo else ""), (" …" if more else "")
        seconds = float(words[start - lo][1])  # type: ignore[arg-type]  # a JSON number
        out[recording_id] = Snippet(
            original_id,
            seconds,
            f"{lead}{before} {hit} {after}{tail}".strip(),
            SafeString(
                f"{lead}{escape(before)} <mark>{escape(hit)}</mark> {escape(after)}{tail}".strip()
            ),
            recording_url.format(recording_id) + f"?clip={original_id}&t={seconds:.2f}",
        )
    return out


@dataclass(frozen=True, slots=True)
class _Hit:
    original: int
    version: int
    first: int  # the hit's first token
    end: int  # one past its last
    tokens: list[str]  # the index's tokens of that transcript


# The words around a hit: (those words, the index of the first of them, the hit's first
# word, one past its last, whether words follow them).
WordSlice = tuple[list[list[object]], int, int, int, bool]
# Words lo to hi (inclusive) of each listed version's JSON, and how many words it has,
# read by the database in one query for the page (the JSON is not sent whole, nor
# decoded here). {rows} is one "(%s, %s, %s)" (version, lo, hi) per hit.
_SLICE_SQL = {
    "sqlite": (
        "WITH wanted(version, lo, hi) AS (VALUES {rows}) "
        "SELECT w.version, json_array_length(v.words), (SELECT json_group_array(json(value)) "
        "FROM json_each(v.words) WHERE key BETWEEN w.lo AND w.hi) "
        "FROM wanted w JOIN transcripts_transcriptversion v ON v.id = w.version"
    ),
    "postgresql": (
        "SELECT w.version, jsonb_array_length(v.words), jsonb_path_query_array(v.words, "
        "'$[$lo to $hi]', jsonb_build_object('lo', w.lo, 'hi', w.hi))::text "
        "FROM (VALUES {rows}) AS w(version, lo, hi) "
        "JOIN transcripts_transcriptversion v ON v.id = w.version"
    ),
}


def _word_slices(hits: dict[int, _Hit]) -> dict[int, WordSlice]:
    """For each hit, the transcript's words around it. Where the transcript has as many
    words as tokens, word i is taken to be token i and only the words around the hit are
    read (one query for every hit of the page); that is checked (each of them must be
    exactly its token), and a transcript where it does not hold has its words read whole
    (decoding a 300-word JSON costs about a millisecond, 50 of them most of a search's
    time)."""
    out: dict[int, WordSlice] = {}
    whole: dict[int, _Hit] = {}  # the slow path
    if not hits:
        return out
    vendor = "sqlite" if connection.vendor == "sqlite" else "postgresql"
    cast = "(%s::bigint, %s::int, %s::int)" if vendor == "postgresql" else "(%s, %s, %s)"
    bounds = {
        recording_id: (max(0, hit.first - SNIPPET_WORDS), hit.end + SNIPPET_WORDS)
        for recording_id, hit in hits.items()
    }
    params: list[int] = []
    for recording_id, hit in hits.items():
        lo, hi = bounds[recording_id]
        params += [hit.version, lo, hi - 1]
    sql = _SLICE_SQL[vendor].format(rows=", ".join([cast] * len(hits)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        read = {version: (length, sliced) for version, length, sliced in cursor.fetchall()}
    for recording_id, hit in hits.items():
        lo, hi = bounds[recording_id]
        length, sliced = read.get(hit.version, (0, None))
        words = json.loads(sliced) if isinstance(sliced, str) else []
        if length == len(hit.tokens) and _one_token_each(words, lo, hit):
            out[recording_id] = (words, lo, hit.first, hit.end, hi < length)
        else:
            whole[recording_id] = hit
    if whole:
        versions = dict(
            TranscriptVersion.objects.filter(
                pk__in=[h.version for h in whole.values()]
            ).values_list("pk", "words")
        )
        for recording_id, hit in whole.items():
            every = versions.get(hit.version) or []
            if (found := _word_span(every, (hit.first, hit.end))) is None:
                continue
            start, stop = found
            lo, hi = max(0, start - SNIPPET_WORDS), min(len(every), stop + SNIPPET_WORDS)
            out[recording_id] = (every[lo:hi], lo, start, stop, hi < len(every))
    return out


def _one_token_each(words: list[list[object]], lo: int, hit: _Hit) -> bool:
    """Whether each of `words` (word `lo` onwards) is exactly the index's token there,
    and they reach past the hit."""
    if lo + len(words) < hit.end:
        return False
    return all(
        isinstance(row, list)
        and len(row) >= 2
        and lo + i < len(hit.tokens)
        and wordlib.tokens(str(row[0])) == [hit.tokens[lo + i]]
        for i, row in enumerate(words)
    )


def _first_token_hit(flat: list[str], terms: list[wordlib.Term]) -> tuple[int, int] | None:
    """(first token, one past the last token) of the earliest hit of any term."""
    best: tuple[int, int] | None = None
    for term in terms:
        at = wordlib.find(flat, term)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, at + len(term.words))
    return best


def _word_span(words: list[list[object]], hit: tuple[int, int]) -> tuple[int, int] | None:
    """The words (first, one past the last) that hold tokens hit[0] to hit[1] - 1: the
    words are walked only up to the hit."""
    first = last = -1
    seen = 0
    for number, row in enumerate(words):
        seen += wordlib.count(str(row[0]))
        if first < 0 and seen > hit[0]:
            first = number
        if seen >= hit[1]:
            last = number
            break
    return (first, last + 1) if first >= 0 and last >= 0 else None
