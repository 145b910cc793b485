"""Several large sets of matches, intersected before the listing orders them.

A search for two words each said in a tenth of the recordings (or a word and a
category) has about one match in a hundred recordings. Walking the listing's order and
testing each recording against both sets reads about a hundred recordings per match:
82,000 of 100,000 for a first page and count of 1,001 (75 ms on PostgreSQL). The same
sets intersected first are a few thousand ids (16 ms), which the listing is then driven
from like any short list. Each part is SQL that gives recording ids (repeats allowed);
the catalogue only asks for this where every part is a set it would build anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

# Sets are intersected where their estimated intersection (as if independent) is at
# most this many. Timed query by query on bench/transcripts_search.py's database of
# 100,000 recordings, PostgreSQL (one warm run each, not the bench's own table):
# an intersection of 1,190 cost 15 ms against 75 ms walking; of 2,730, 29 against 40;
# of 8,400, 50 against 41 (intersecting costs a little for each id in each set, then
# each id it gives; walking, a little for each recording read to fill a page and count).
JOINT_ESTIMATE = 4_000
# The most ids a joint set is passed on as (one bound array, not one parameter each);
# with more (the estimate was wrong), the listing walks as before.
JOINT_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Rows:
    """SQL of a SELECT of one column, recording ids, and its parameters; `count`, where
    known, an estimate of how many ids it gives. `merge`: (kind, fragment) where several
    parts of one kind are answered together by that kind's merger (register_merger):
    words said, by one look-up of "a and b" in an index of every recording's words.
    `walked`: the term would otherwise be tested recording by recording, so its set is
    worth building only merged with others."""

    sql: str
    params: tuple[Any, ...] = ()
    count: float | None = None
    merge: tuple[str, str] | None = None
    walked: bool = False

    @classmethod
    def of(cls, ids_query: QuerySet[Any, Any], count: float | None = None) -> Rows:
        """The SQL of a queryset of one id column (`.values(...)`)."""
        # No ORDER BY (a model's default ordering): a set is not sorted before it is
        # intersected, nor its rows read for the ordering's columns.
        sql, params = ids_query.order_by().query.sql_with_params()
        return cls(sql, tuple(params), count)

    @classmethod
    def union(cls, parts: Sequence[Rows]) -> Rows:
        if len(parts) == 1:
            return parts[0]
        selects = (f"SELECT * FROM ({p.sql}) AS u{i}" for i, p in enumerate(parts))  # noqa: S608
        counts = [p.count for p in parts]
        count = None if None in counts else sum(c or 0.0 for c in counts)
        return cls(" UNION ALL ".join(selects), tuple(v for p in parts for v in p.params), count)


# kind -> the SQL answering several parts of that kind at once (None: not here)
Merger = Callable[[list[str]], "Rows | None"]
_mergers: dict[str, Merger] = {}


def register_merger(kind: str, merger: Merger) -> None:
    """A later stage (transcripts) answers several parts of its kind in one look-up."""
    _mergers[kind] = merger


def planned(parts: Sequence[Rows]) -> list[Rows] | None:
    """The parts to intersect, with those of one kind merged into one (a set built from
    one index look-up, whatever each part's size); None where it is not worth it: fewer
    than two sets before merging, a part that would be walked and was not merged, or an
    estimated intersection (as if independent; a part of unknown size counts as every
    recording) over JOINT_ESTIMATE, or over JOINT_MAX where parts were merged (the cost
    is then mostly the ids it gives)."""
    if len(parts) < 2:
        return None
    total = recordings_estimate()
    if total <= 0:
        return None
    estimate = total
    for part in parts:
        estimate *= min(1.0, (part.count if part.count is not None else total) / total)
    kinds: dict[str, list[Rows]] = {}
    for part in parts:
        if part.merge is not None and part.merge[0] in _mergers:
            kinds.setdefault(part.merge[0], []).append(part)
    out = [p for p in parts if p.merge is None or len(kinds.get(p.merge[0], ())) < 2]
    merged = False
    for kind, group in kinds.items():
        if len(group) < 2:
            continue
        one = _mergers[kind]([p.merge[1] for p in group if p.merge is not None])
        if one is None:
            out.extend(group)
            continue
        out.append(one)
        merged = True
    if any(p.walked for p in out):
        return None
    return out if estimate <= (JOINT_MAX if merged else JOINT_ESTIMATE) else None


def recordings_estimate() -> float:
    """About how many recordings there are, without counting them: the highest id (one
    index look-up; ids are not reused and recordings are deleted only by retention, so
    it is close; the planner's statistics are unknown until a table is analysed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM evidence_recording")
        row = cursor.fetchone()
    return max(0.0, float(row[0] or 0)) if row else 0.0


def intersection(parts: Sequence[Rows], limit: int | None = None) -> list[int] | None:
    """The ids in every part, or None where there are more than `limit` (JOINT_MAX)."""
    limit = JOINT_MAX if limit is None else limit
    if len(parts) == 1:  # one merged part: its ids once each
        sql = f"SELECT DISTINCT * FROM ({parts[0].sql}) AS p0"  # noqa: S608
    else:
        selects = (f"SELECT * FROM ({p.sql}) AS p{i}" for i, p in enumerate(parts))  # noqa: S608
        sql = " INTERSECT ".join(selects)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM ({sql}) AS joint LIMIT {int(limit) + 1}",  # noqa: S608 (constants)
            [v for p in parts for v in p.params],
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= limit else None


def among(ids: Sequence[int]) -> Q:
    """Recordings with these ids, as one bound parameter (an array, or JSON on SQLite)
    rather than one parameter per id."""
    if connection.vendor == "postgresql":
        listed = RawSQL("SELECT unnest(%s::bigint[])", [list(ids)])
    else:
        listed = RawSQL("SELECT value FROM json_each(%s)", [json.dumps(list(ids))])
    return Q(pk__in=listed)
