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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

# Sets are intersected where their estimated intersection (as if independent) is at
# most this many. At 100,000 recordings on PostgreSQL (bench/transcripts_search.py):
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
    known, an estimate of how many ids it gives."""

    sql: str
    params: tuple[Any, ...] = ()
    count: float | None = None

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


def worth_intersecting(parts: Sequence[Rows]) -> bool:
    """Whether the estimated intersection of `parts` (as if independent; a part of
    unknown size counts as every recording) is small enough (JOINT_ESTIMATE)."""
    total = recordings_estimate()
    if len(parts) < 2 or total <= 0:
        return False
    estimate = total
    for part in parts:
        estimate *= min(1.0, (part.count if part.count is not None else total) / total)
    return estimate <= JOINT_ESTIMATE


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
