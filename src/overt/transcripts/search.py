"""The one search, as the library and the API run it: the catalogue's filters and text
search (evidence.catalogue), the words spoken in each recording, and what the viewer may
see, with the transcript snippet that matched and the second it was said.

Spoken words count only where the viewer may play the footage (STREAM), since a hit is
as telling as the words themselves; everything goes through `visible_recordings`, so no
hit, count, facet or snippet comes from a recording the viewer may not see.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from django.db import connection
from django.db.models import BooleanField, OuterRef, Q, Subquery, Value
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.safestring import SafeString

from overt.access.services import Action, User, permitted, visible_recordings
from overt.evidence.catalogue import Found, RecordingFilter, Search, TextSource, search_terms
from overt.evidence.models import Recording

from . import words as wordlib
from .models import SpeechIndex, TranscriptVersion

SMALL = 2000
SPEECH_FTS = "transcripts_speech_match"  # migration 0003
PG_FUNCTION = "transcripts_speech_recordings"  # migration 0004
SNIPPET_WORDS = 8  # either side of the hit
# A phrase whose words are in many transcripts is checked as the listing walks when at
# least this share of those sampled say it in order (_pg_phrase).
WALK_SHARE = 0.2


def search_for(user: User | None, f: RecordingFilter) -> Search:
    """The library's and the API's search for `user`."""
    visible = visible_recordings(user, Recording.objects.all())
    return Search(f, lambda qs: qs & visible, text_sources=(speech_source(user),))


def speech_source(user: User | None) -> TextSource:
    worked_out: list[Q | None] = []  # what `user` may play, worked out at the first term

    def spoken(term: str) -> Found | None:
        term_words = tuple(wordlib.tokens(term))
        if not term_words:
            return None
        if not worked_out:
            worked_out.append(_playable(user))
        may_play = worked_out[0]
        if len(term_words) > 1 and connection.vendor == "postgresql":
            return _pg_phrase(wordlib.Term(term_words), may_play)
        sql, params = speech_query(wordlib.Term(term_words))
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} LIMIT {SMALL + 1}", params)
            rows = cursor.fetchall()
        sql, params = speech_query(wordlib.Term(term_words), every=True)
        if len(rows) <= SMALL:  # all of them: a list the planner may drive from
            ids = {row[0] for row in rows}
            if ids and may_play is not None:
                listed = Recording.objects.filter(Q(pk__in=sorted(ids)) & may_play)
                ids = set(listed.values_list("pk", flat=True))
            return Found.among(ids) if ids else None
        found = Q(pk__in=RawSQL(sql, params))  # noqa: S611 (bound parameters)
        return Found(found if may_play is None else found & may_play)

    return spoken


def _pg_phrase(term: wordlib.Term, may_play: Q | None) -> Found | None:
    """PostgreSQL, a phrase: the GIN index gives the transcripts holding all its words
    without reading a stored vector back; word order needs the vector (positions), read
    from TOAST, about 5 us a transcript. Where at most SMALL have the words, their order
    is checked at once. Where more do, the order is checked on the first SMALL + 1 of
    them: if the phrase is common among them (WALK_SHARE or more), the listing walks in
    its order and checks each candidate as it comes, stopping at the 1,001st match
    (three common words are in every transcript: 0.5 s to check them all); if it is
    rarer, walking would check most of them one by one (slower still), so every
    candidate's order is checked once through the index, as for one word."""
    table = SpeechIndex._meta.db_table
    every_word = " & ".join(f"'{w}'" for w in term.words) + ":*"
    phrase = " <-> ".join(f"'{w}'" for w in term.words) + ":*"
    tsquery = "to_tsquery('simple'::regconfig, %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT recording_id FROM {table} WHERE tsv @@ {tsquery} "  # noqa: S608
            f"LIMIT {SMALL + 1}",
            [every_word],
        )
        rows = cursor.fetchall()
        # Complete only if the rows (one per original, so a recording may come several
        # times) stopped short of the limit; counted before duplicates are dropped.
        complete = len(rows) <= SMALL
        candidates = sorted({row[0] for row in rows})
        if not candidates:
            return None
        cursor.execute(
            f"SELECT DISTINCT recording_id FROM {table} "  # noqa: S608
            f"WHERE recording_id = ANY(%s) AND tsv @@ {tsquery}",
            [candidates, phrase],
        )
        ids = {row[0] for row in cursor.fetchall()}
    if complete:
        if ids and may_play is not None:
            listed = Recording.objects.filter(Q(pk__in=sorted(ids)) & may_play)
            ids = set(listed.values_list("pk", flat=True))
        return Found.among(ids) if ids else None
    if len(ids) < WALK_SHARE * len(candidates):
        sql, params = speech_query(term, every=True)
        found = Q(pk__in=RawSQL(sql, params))  # noqa: S611 (bound parameters)
        return Found(found if may_play is None else found & may_play)
    said = SpeechIndex.objects.filter(recording_id=OuterRef("pk")).filter(
        RawSQL(f"tsv @@ {tsquery}", [phrase], output_field=BooleanField())  # noqa: S611
    )
    # A scalar subquery with LIMIT 1, not EXISTS: PostgreSQL turns EXISTS into one hashed
    # set of every match, which is the full check this avoids. The candidates (one
    # hashed set from the index) come first, so only they are checked.
    probe = Subquery(said.values(hit=Value(True))[:1], output_field=BooleanField())
    every = f"SELECT r FROM {PG_FUNCTION}({tsquery}) AS r"  # noqa: S608 (constants)
    found = Q(pk__in=RawSQL(every, [every_word])) & Q(probe)  # noqa: S611 (bound)
    return Found(found if may_play is None else found & may_play)


def _playable(user: User | None) -> Q | None:
    """The recordings `user` may play, or None for all of them (so the planner is not
    handed a needless subquery)."""
    playable = permitted(user, Action.STREAM, Recording.objects.all())
    if not playable.query.where:
        return None
    return Q(pk__in=playable.values("pk"))


def speech_query(term: wordlib.Term, *, every: bool = False) -> tuple[str, list[str]]:
    """SELECT of the ids of recordings whose current transcript has `term`: its words in
    order, the last one as a prefix (a recording may come more than once). The tokens are
    letters and digits only (words.tokens), so nothing in them is FTS syntax; they still
    go in as bound parameters. Migration 0003 made both indexes give recording ids
    straight from the index: SQLite's rowid is recording_id * 2^32 + original_id.

    `every`: the query that reads all of them, not the first few; on PostgreSQL through
    migration 0004's function, which always reads the index."""
    if connection.vendor == "sqlite":
        match = '"' + " ".join(term.words) + '"*'
        return (
            f"SELECT rowid >> 32 FROM {SPEECH_FTS} WHERE {SPEECH_FTS} MATCH %s",  # noqa: S608
            [match],
        )
    query = " <-> ".join(f"'{w}'" for w in term.words) + ":*"
    if every:
        tsquery = "to_tsquery('simple'::regconfig, %s)"
        return (f"SELECT r FROM {PG_FUNCTION}({tsquery}) AS r", [query])  # noqa: S608
    table = SpeechIndex._meta.db_table
    return (
        f"SELECT recording_id FROM {table} "  # noqa: S608 (constants)
        "WHERE tsv @@ to_tsquery('simple'::regconfig, %s)",
        [query],
    )


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
