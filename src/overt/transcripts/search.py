"""The one search, as the library and the API run it: the catalogue's filters and text
search (evidence.catalogue), the words spoken in each recording, and what the viewer may
see; with the transcript snippet that matched and the second it was said (snippets).

Spoken words count only where the viewer may play the footage (STREAM), since a hit is
as telling as the words themselves; everything goes through `visible_recordings`, so no
hit, count, facet or snippet comes from a recording the viewer may not see.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import BooleanField, OuterRef, Q, Subquery, Value
from django.db.models.expressions import RawSQL

from overt.access.services import Action, User, permitted, visible_recordings
from overt.evidence.catalogue import COUNT_LIMIT, Found, RecordingFilter, Search
from overt.evidence.joint import Rows, register_merger
from overt.evidence.models import Recording

from . import words as wordlib
from .models import SpeechIndex
from .snippets import Snippet, snippets

__all__ = ["Snippet", "SpeechSource", "search_for", "snippets"]

SMALL = 2000
SURELY_MANY = 4  # a word estimated in more than this many times SMALL transcripts is not listed
SPEECH_FTS = "transcripts_speech_match"  # migration 0003
PG_FUNCTION = "transcripts_speech_recordings"  # migration 0004
PG_FIRST = "transcripts_speech_first"  # migration 0005
PG_TRIPLES = "transcripts_speech_triples"  # migration 0006
PG_TRIPLES_FIRST = "transcripts_speech_triples_first"  # migration 0006
PG_PHRASE_SAID = "transcripts_speech_phrase_said"  # migration 0007
PG_LONG_SAID = "transcripts_speech_long_said"  # migration 0006
SAID_IN_TOKENS = "strpos(' ' || tokens, ' ' || %s) > 0"  # a phrase, in order (migration 0007)
MAX_TRIPLE_BYTES = 2000  # longer runs of three words are not indexed (migration 0006)
TO_TSQUERY = "to_tsquery('simple'::regconfig, %s)"
WORDS_MATCH = f"tsv @@ {TO_TSQUERY}"
TRIPLES_MATCH = "transcripts_word_triples(tokens) @@ %s::tsquery"  # its index: migration 0006
# A phrase of four or more words whose triples are in many transcripts is checked as the
# listing walks where that checks fewer of them than checking every one: a walk checks
# about this many divided by the share of the candidates that say it (_pg_phrase).
PHRASE_WALK_CHECKS = float(COUNT_LIMIT)
# Words found in many transcripts are tested recording by recording as the listing walks
# when the planner puts them in at least this share of transcripts (_pg_word): a test
# reads one stored vector, so a walk to a page and count of 1,001 costs about 1,001 /
# share tests; the set costs a little for each match. bench/transcripts_walk_or_set.py
# at 100,000 transcripts (quiet, warm runs): share 0.28, set 10-11 ms, walk 17-21 ms;
# 0.48, set 23-27, walk 11-14; 0.82, set 25, walk 7-9; 1.0, set 37, walk 6-8.
WALK_WORDS = 0.4
# A viewer who may play at most this many recordings has a common word tested on each
# (a stored vector read, about 5 us) rather than its set built (about 0.5 us a match:
# 5 ms for a word in a tenth of 100,000, 37 ms for one in all).
FEW_TO_WALK = 500


WORDS_KIND = "words said"
RECORDING_WORDS = "transcripts_recording_words"  # migration 0008


def _words_together(queries: list[str]) -> Rows | None:
    """PostgreSQL: the recordings that said every one of these words (tsquery texts),
    in any of their clips: one look-up in the index of each recording's words (migration
    0008); a recording whose words were too many for one vector (NULL) has each word
    looked for in its clips."""
    if connection.vendor != "postgresql" or not queries:
        return None
    together = " & ".join(f"({q})" for q in queries)
    table, clips = RECORDING_WORDS, SpeechIndex._meta.db_table
    each = " AND ".join(
        f"EXISTS (SELECT 1 FROM {clips} s WHERE s.recording_id = w.recording_id "  # noqa: S608
        f"AND s.tsv @@ {TO_TSQUERY})"
        for _ in queries
    )
    sql = (
        f"SELECT recording_id FROM {table} WHERE words @@ {TO_TSQUERY} "  # noqa: S608
        f"UNION ALL SELECT w.recording_id FROM {table} w WHERE w.words IS NULL AND {each}"
    )
    return Rows(sql, (together, *queries))


register_merger(WORDS_KIND, _words_together)


def search_for(user: User | None, f: RecordingFilter) -> Search:
    """The library's and the API's search for `user`."""
    visible = visible_recordings(user, Recording.objects.all())
    return Search(f, lambda qs: qs & visible, text_sources=(SpeechSource(user),))


class SpeechSource:
    """The words spoken, as a catalogue TextSource: where `user` may play the footage."""

    def __init__(self, user: User | None) -> None:
        self.user = user
        self._may_play: list[Q | None] = []  # worked out at the first term
        self._walk_from: list[float] = []  # and at the first term found in many

    def may_play(self) -> Q | None:
        if not self._may_play:
            self._may_play.append(_playable(self.user))
        return self._may_play[0]

    def walk_from(self) -> float:
        """The share from which a term found in many is walked (Found.walk). A viewer who
        may play only some recordings: the planner drives from those, so a walk tests
        each of them; with at most FEW_TO_WALK (an officer's own), that is cheaper than
        any set of a common word, so every such term walks. With more (a team's 4,000)
        the share decides as for anyone: at 100,000, a word in every transcript cost a
        supervisor 29 ms walked (4,049 tests) against 37 ms for its set alone."""
        if not self._walk_from:
            may_play = self.may_play()
            if may_play is None:
                self._walk_from.append(WALK_WORDS)
            else:
                playable = Recording.objects.filter(may_play).order_by()[: FEW_TO_WALK + 1]
                few = playable.count() <= FEW_TO_WALK
                self._walk_from.append(0.0 if few else WALK_WORDS)
        return self._walk_from[0]

    def __call__(self, text: str, /) -> Found | None:
        words = tuple(wordlib.tokens(text))
        if not words:
            return None
        term, may_play = wordlib.Term(words), self.may_play()
        if connection.vendor == "postgresql":
            walk_from = self.walk_from
            if term.is_phrase:
                return _pg_phrase(term, may_play, walk_from)
            return _pg_word(term, may_play, walk_from)
        sql, params = speech_query(term)
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} LIMIT {SMALL + 1}", params)
            rows = cursor.fetchall()
        if len(rows) <= SMALL:  # all of them: a list the planner may drive from
            return _listed({row[0] for row in rows}, may_play)
        found = Q(pk__in=RawSQL(sql, params))  # noqa: S611 (bound parameters)
        if may_play is None:
            return Found(found, rows=Rows(sql, tuple(params)))
        return Found(found & may_play)


def _listed(ids: set[int], may_play: Q | None) -> Found | None:
    """Found for these recordings, those `may_play` keeps."""
    if ids and may_play is not None:
        listed = Recording.objects.filter(Q(pk__in=sorted(ids)) & may_play)
        ids = set(listed.values_list("pk", flat=True))
    return Found.among(ids) if ids else None


def _pg_tsquery(term: wordlib.Term) -> str:
    """to_tsquery text for `term`: a word as a prefix, a phrase's words in order, its
    last one a prefix."""
    return " <-> ".join(f"'{w}'" for w in term.words) + ":*"


def _pg_first(cursor: CursorWrapper, query: str, limit: int) -> list[int]:
    """Recording ids (one per original that said it) of up to `limit` matches of
    `query`, through the index (migration 0005)."""
    cursor.execute(
        f"SELECT r FROM {PG_FIRST}({TO_TSQUERY}, %s) AS r",  # noqa: S608 (constants)
        [query, limit],
    )
    return [row[0] for row in cursor.fetchall()]


def _pg_share(cursor: CursorWrapper, query: str, total: float, *, triples: bool = False) -> float:
    """The planner's estimate (from the statistics of common words, or of common word
    triples) of the share of the `total` transcripts (_pg_rows) that match `query`
    (words; `triples`: a ::tsquery of word triples): it only chooses between ways of
    answering."""
    table = SpeechIndex._meta.db_table
    match = TRIPLES_MATCH if triples else WORDS_MATCH
    cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE {match}", [query])  # noqa: S608
    plan = cursor.fetchone()[0]
    rows = float((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])
    return min(1.0, rows / total) if total > 0 else 0.0


def _pg_rows() -> float:
    """The planner's count of index rows (transcripts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
            [SpeechIndex._meta.db_table],
        )
        return max(0.0, float(cursor.fetchone()[0]))


def _pg_probe(test: str, value: str) -> Q:
    """Whether the recording at hand passes `test` (SQL on its index row, one bound
    value): one look-up by recording id and a test of that row (no set of every match is
    built). The tests: WORDS_MATCH (its stored vector) and SAID_IN_TOKENS (a phrase in
    its tokens, since the vector keeps at most 256 positions of a word: migration 0007)."""
    said = SpeechIndex.objects.filter(recording_id=OuterRef("pk")).filter(
        RawSQL(test, [value], output_field=BooleanField())  # noqa: S611 (bound parameter)
    )
    # A scalar subquery with LIMIT 1, not EXISTS: PostgreSQL turns EXISTS into one hashed
    # set of every match, which is what this avoids.
    return Q(Subquery(said.values(hit=Value(True))[:1], output_field=BooleanField()))


def _pg_word(
    term: wordlib.Term, may_play: Q | None, walk_from: Callable[[], float]
) -> Found | None:
    """PostgreSQL, a word: up to SMALL matches are listed; more are a set built from the
    index, or (Found.walk) tested recording by recording."""
    query = _pg_tsquery(term)
    with connection.cursor() as cursor:
        total = _pg_rows()
        share = _pg_share(cursor, query, total)
        # A word the statistics put in many more than SMALL transcripts (they list the
        # commonest words, so they are near for those) is not listed first: for a word in
        # every transcript, the first SMALL + 1 cost 6-10 ms of a 50 ms search.
        if share * total <= SURELY_MANY * SMALL:
            rows = _pg_first(cursor, query, SMALL + 1)
            if len(rows) <= SMALL:
                return _listed(set(rows), may_play)
    every = f"SELECT r FROM {PG_FUNCTION}({TO_TSQUERY}) AS r"  # noqa: S608 (constants)
    found = Q(pk__in=RawSQL(every, [query]))  # noqa: S611 (bound parameters)
    walk = _pg_probe(WORDS_MATCH, query)
    # The set as SQL, for intersecting with others (evidence.joint; with other words,
    # one look-up in every recording's words, 0008), where nothing else narrows it (a
    # viewer who may play only some footage: they drive instead).
    set_rows = None
    if may_play is None:
        set_rows = Rows(every, (query,), share * total, merge=(WORDS_KIND, query))
    else:
        found, walk = found & may_play, walk & may_play
    return Found(found, walk=walk, share=share, walk_from=walk_from(), rows=set_rows)


def _pg_phrase(
    term: wordlib.Term, may_play: Q | None, walk_from_viewer: Callable[[], float]
) -> Found | None:
    """PostgreSQL, a phrase. The index of word triples (migration 0006) gives the
    transcripts holding each run of three words of the phrase; a phrase of two or three
    words is one entry, so those are its matches. A longer one's order is checked in the
    transcript's tokens (migration 0007), read from TOAST. Where at most SMALL have the
    triples, they are checked at once. Where more do, the first SMALL + 1 are checked, and the
    share of those that say it is the `share` of a walk (Found.walk): the listing walks in
    its order and checks each candidate as it comes, stopping when its page and count are
    full. Where that would check more candidates than there are (the phrase is rare
    among them), every candidate is checked once instead, in the index's order."""
    table = SpeechIndex._meta.db_table
    words = term.words
    runs = ("_".join(words[i : i + 3]) for i in range(len(words)))
    if any(len(run.encode()) >= MAX_TRIPLE_BYTES for run in runs):
        return None  # no transcript's index holds so long a run of words (nor its vector)
    triples, spoken = _pg_triples(term), " ".join(words)
    exact = len(words) <= 3  # one entry of the index
    with connection.cursor() as cursor:
        # Transcripts too long for triples (a few, if any): looked for in their tokens.
        cursor.execute(f"SELECT r FROM {PG_LONG_SAID}(%s) AS r", [spoken])  # noqa: S608
        in_long = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            f"SELECT r FROM {PG_TRIPLES_FIRST}(%s::tsquery, %s) AS r",  # noqa: S608 (constants)
            [triples, SMALL + 1],
        )
        rows = [row[0] for row in cursor.fetchall()]
        # Complete only if the rows (one per original, so a recording may come several
        # times) stopped short of the limit; counted before duplicates are dropped.
        complete = len(rows) <= SMALL
        candidates = sorted(set(rows))
        if not candidates and not in_long:
            return None
        ids = set(candidates)
        if not exact:
            cursor.execute(
                f"SELECT DISTINCT recording_id FROM {table} "  # noqa: S608
                f"WHERE recording_id = ANY(%s) AND {SAID_IN_TOKENS}",
                [candidates, spoken],
            )
            ids = {row[0] for row in cursor.fetchall()}
        ids |= in_long
        # The share of transcripts with the triples (a phrase of 2-3 words: its matches).
        total = _pg_rows() if not complete else 0.0
        share = _pg_share(cursor, triples, total, triples=True) if not complete else 0.0
    if complete:
        return _listed(ids, may_play)
    every_triple = f"SELECT r FROM {PG_TRIPLES}(%s::tsquery) AS r"  # noqa: S608 (constants)
    with_triples = Q(pk__in=RawSQL(every_triple, [triples]))  # noqa: S611 (bound parameters)
    if in_long:
        with_triples |= Q(pk__in=sorted(in_long))
    if exact:  # the triples are the matches: a set from the index, or a walk
        found, walk = with_triples, _pg_probe(SAID_IN_TOKENS, spoken)
        set_sql = Rows(every_triple, (triples,), share * total)
        share_of, walk_from = share, walk_from_viewer()
    else:
        said = f"SELECT r FROM {PG_PHRASE_SAID}(%s::tsquery, %s) AS r"  # noqa: S608
        found = Q(pk__in=RawSQL(said, [triples, spoken]))  # noqa: S611 (bound parameters)
        if in_long:
            found |= Q(pk__in=sorted(in_long))
        # The candidates (one hashed set from the index) come first, so only they are read.
        walk = with_triples & _pg_probe(SAID_IN_TOKENS, spoken)
        # Checking costs the same either way (a vector read); walking checks about
        # PHRASE_WALK_CHECKS / (the share of candidates that say it), at once every one.
        estimated = max(share * total, float(len(candidates)), 1.0)
        share_of = len(ids) / max(1, len(candidates))
        set_sql = Rows(said, (triples, spoken), share * share_of * total)
        walk_from = PHRASE_WALK_CHECKS / estimated
    if in_long:  # found in their tokens (PG_LONG_SAID), on every way of answering
        walk |= Q(pk__in=sorted(in_long))
        long_rows = Recording.objects.filter(pk__in=sorted(in_long)).values("pk")
        set_sql = Rows.union([set_sql, Rows.of(long_rows, len(in_long))])
    if may_play is not None:
        found, walk = found & may_play, walk & may_play
    set_rows = set_sql if may_play is None else None  # as in _pg_word
    return Found(found, walk=walk, share=share_of, walk_from=walk_from, rows=set_rows)


def _pg_triples(term: wordlib.Term) -> str:
    """tsquery text (for ::tsquery, which takes lexemes as they are) of the phrase's runs
    of three words (a two-word phrase: its pair, which begins its triples), the last a
    prefix. Tokens are letters and digits only, so neither "_" nor a quote can be in one."""
    words = term.words
    if len(words) == 2:
        return f"'{words[0]}_{words[1]}':*"
    runs = [f"'{words[i]}_{words[i + 1]}_{words[i + 2]}'" for i in range(len(words) - 2)]
    return " & ".join(runs) + ":*"


def _playable(user: User | None) -> Q | None:
    """The recordings `user` may play, or None for all of them (so the planner is not
    handed a needless subquery)."""
    playable = permitted(user, Action.STREAM, Recording.objects.all())
    if not playable.query.where:
        return None
    return Q(pk__in=playable.values("pk"))


def speech_query(term: wordlib.Term) -> tuple[str, list[str]]:
    """SQLite: SELECT of the ids of recordings whose current transcript has `term`: its
    words in order, the last one as a prefix (a recording may come more than once). The
    tokens are letters and digits only (words.tokens), so nothing in them is FTS syntax;
    they still go in as bound parameters. Migration 0003 made the index give recording
    ids straight: its rowid is recording_id * 2^32 + original_id."""
    return (
        f"SELECT rowid >> 32 FROM {SPEECH_FTS} WHERE {SPEECH_FTS} MATCH %s",  # noqa: S608
        ['"' + " ".join(term.words) + '"*'],
    )
