"""The one search, as the library and the API run it: the catalogue's filters and text
search (evidence.catalogue), the words spoken in each recording, and what the viewer may
see, with the transcript snippet that matched and the second it was said.

Spoken words count only where the viewer may play the footage (STREAM), since a hit is
as telling as the words themselves; everything goes through `visible_recordings`, so no
hit, count, facet or snippet comes from a recording the viewer may not see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.safestring import SafeString

from overt.access.services import Action, User, permitted, visible_recordings
from overt.evidence.catalogue import RecordingFilter, Search, TextSource, search_terms
from overt.evidence.models import Recording

from . import words as wordlib
from .models import SpeechIndex

SMALL = 2000
SNIPPET_WORDS = 8  # either side of the hit


def search_for(user: User | None, f: RecordingFilter) -> Search:
    """The library's and the API's search for `user`."""
    visible = visible_recordings(user, Recording.objects.all())
    return Search(f, lambda qs: qs & visible, text_sources=(speech_source(user),))


def speech_source(user: User | None) -> TextSource:
    def spoken(term: str) -> Q | None:
        term_words = tuple(wordlib.tokens(term))
        if not term_words:
            return None
        sql, params = speech_query(wordlib.Term(term_words))
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} LIMIT {SMALL + 1}", params)
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return None
        if len(ids) <= SMALL:
            return _playable(user, Q(pk__in=ids))
        return _playable(user, Q(pk__in=RawSQL(sql, params)))  # noqa: S611 (bound parameters)

    return spoken


def _playable(user: User | None, found: Q) -> Q:
    """`found`, narrowed to recordings `user` may play (nothing more when they may play
    everything, so the planner is not handed a needless subquery)."""
    playable = permitted(user, Action.STREAM, Recording.objects.all())
    if not playable.query.where:
        return found
    return found & Q(pk__in=playable.values("pk"))


def speech_query(term: wordlib.Term) -> tuple[str, list[str]]:
    """SELECT of recording ids whose current transcript has `term`: its words in order,
    the last one as a prefix. The tokens are letters and digits only (words.tokens), so
    nothing in them is FTS syntax; they still go in as bound parameters."""
    table = SpeechIndex._meta.db_table
    if connection.vendor == "sqlite":
        match = '"' + " ".join(term.words) + '"*'
        return (
            f"SELECT DISTINCT recording_id FROM {table} WHERE original_id IN "  # noqa: S608
            "(SELECT rowid FROM transcripts_speech_fts WHERE transcripts_speech_fts MATCH %s)",
            [match],
        )
    query = " <-> ".join(f"'{w}'" for w in term.words) + ":*"
    return (
        f"SELECT DISTINCT recording_id FROM {table} "  # noqa: S608 (constants)
        "WHERE to_tsvector('simple'::regconfig, tokens) @@ to_tsquery('simple'::regconfig, %s)",
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
    `q`, where: the first hit of the first term found. Only where `user` may play it."""
    terms = [wordlib.Term(tuple(t)) for t in (wordlib.tokens(x) for x in search_terms(q)) if t]
    ids = [r.pk for r in recordings]
    if not terms or not ids:
        return {}
    playable = set(
        permitted(user, Action.STREAM, Recording.objects.filter(pk__in=ids)).values_list(
            "pk", flat=True
        )
    )
    rows = SpeechIndex.objects.filter(recording_id__in=playable).select_related("version")
    out: dict[int, Snippet] = {}
    recording_url = reverse("recording", args=[0]).replace("/0/", "/{}/")
    for row in rows.order_by("recording_id", "original_id"):
        if row.recording_id in out:
            continue
        found = _first_hit(row, terms)
        if found is None:
            continue
        start, end = found
        words = row.version.words
        lo, hi = max(0, start - SNIPPET_WORDS), min(len(words), end + SNIPPET_WORDS)
        before = " ".join(str(w[0]) for w in words[lo:start])
        hit = " ".join(str(w[0]) for w in words[start:end])
        after = " ".join(str(w[0]) for w in words[end:hi])
        lead, tail = ("… " if lo else ""), (" …" if hi < len(words) else "")
        at = float(words[start][1])
        out[row.recording_id] = Snippet(
            row.original_id,
            at,
            f"{lead}{before} {hit} {after}{tail}".strip(),
            SafeString(
                f"{lead}{escape(before)} <mark>{escape(hit)}</mark> {escape(after)}{tail}".strip()
            ),
            recording_url.format(row.recording_id) + f"?clip={row.original_id}&t={at:.2f}",
        )
    return out


def _first_hit(index: SpeechIndex, terms: list[wordlib.Term]) -> tuple[int, int] | None:
    """(first word, one past the last word) of the earliest hit of any term. The index row
    holds the version's tokens already: the words are walked only up to the hit."""
    flat = index.tokens.split()
    best: tuple[int, int] | None = None
    for term in terms:
        at = wordlib.find(flat, term)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, at + len(term.words))
    if best is None:
        return None
    first = last = -1
    seen = 0
    for number, row in enumerate(index.version.words):
        seen += wordlib.count(str(row[0]))
        if first < 0 and seen > best[0]:
            first = number
        if seen >= best[1]:
            last = number
            break
    return (first, last + 1) if first >= 0 and last >= 0 else None
