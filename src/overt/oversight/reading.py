"""Reading the catalogue for compliance in bulk, and storing verdicts in bulk.

Plain SQL (the same on SQLite and PostgreSQL) instead of ORM instances: for a month of a
large force (hundreds of thousands of rows) the ORM's per-row conversions cost more than
the rules themselves (bench/oversight.py). Times come back as aware UTC datetimes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

from .rules import RecordingFacts

MAX_TRACK_POINTS = 64  # a long GNSS track is thinned to this many points for matching
# A camera whose clock is off by more than this (a clock reset to its factory date, a
# wrong zone) may have camera times far outside any window read by time: its
# recordings are read by their offset instead, and kept by their corrected times.
SKEWED_S = 3600.0
CHUNK = 5000


def when(value: Any) -> datetime:
    """A database time (text as `_time` writes it, or a datetime) as an aware UTC
    datetime."""
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is UTC:
        return moment
    # replace() and astimezone() cost several times the parse: only when needed.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def param(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _rows(sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(CHUNK):
            yield from batch


def places(lat: float | None, lon: float | None, track: Any) -> tuple[tuple[float, float], ...]:
    points: list[tuple[float, float]] = []
    if lat is not None and lon is not None:
        points.append((lat, lon))
    if isinstance(track, str):
        track = json.loads(track) if track not in ("", "[]") else []
    if isinstance(track, list) and track:
        step = max(1, len(track) // MAX_TRACK_POINTS)
        for p in track[::step]:
            if isinstance(p, dict):
                plat, plon = p.get("lat"), p.get("lon")
                if isinstance(plat, int | float) and isinstance(plon, int | float):
                    points.append((float(plat), float(plon)))
    return tuple(points)


def _time(column: str) -> str:
    """A time column as text, parsed here by datetime.fromisoformat: the drivers' own
    conversions (a regular expression per value on SQLite; Django's Python loader on
    PostgreSQL) and a replace(tzinfo=) each cost more than the rules. SQLite stores naive
    UTC, so its offset is appended; PostgreSQL writes the offset of the session's zone."""
    if connection.vendor == "sqlite":
        return f"(CAST({column} AS TEXT) || '+00:00')"
    return f"CAST({column} AS TEXT)"


def _parser() -> Callable[[Any], datetime]:
    """SQLite's text is always UTC (`_time`): the plain parse is enough."""
    return datetime.fromisoformat if connection.vendor == "sqlite" else when


def _text(column: str) -> str:
    """A JSON column as its text: psycopg would parse every track, most of them empty;
    `places` parses only those with points."""
    return f"CAST({column} AS TEXT)" if connection.vendor == "postgresql" else column


# Ordered by the qualified columns: an unqualified name would sort by the output column
# of the same name (the text of the time), in the database's collation.
_RECORDINGS = (
    "SELECT r.id, r.officer_id, {on} AS on_text, {off} AS off_text, r.pre_event_seconds, "
    "r.start_latitude, r.start_longitude, {track} AS track_text, r.clock_offset_s "
    "FROM evidence_recording r WHERE {where}{officers} "
    "ORDER BY r.officer_id, r.trigger_on_at, r.id"
)
_BY_TIME = "r.trigger_on_at >= %s AND r.trigger_on_at <= %s"
_BY_SKEW = "(r.clock_offset_s > %s OR r.clock_offset_s < %s)"
# Recordings whose originals carry no audio track at all (muted, or the microphone off).
_MUTED = (
    "SELECT o.recording_id FROM evidence_original o JOIN evidence_recording r "
    "ON r.id = o.recording_id WHERE {where}{officers} "
    "GROUP BY o.recording_id HAVING MAX(CASE WHEN o.audio_codec <> '' THEN 1 ELSE 0 END) = 0"
)


def recordings(
    officer_ids: set[int], lo: datetime, hi: datetime
) -> dict[int, list[RecordingFacts]]:
    """Each officer's recordings that began in [lo, hi] in server time (camera time
    corrected by the clock offset), sorted by the start of their span (`span()`).

    Two reads: by camera time (the index), which is right for every camera whose clock
    is off by less than SKEWED_S, since the callers' windows are widened by hours; and
    by offset, for the few cameras off by more, kept if their corrected start is in
    [lo, hi]."""
    if not officer_ids:
        return {}
    officers, chosen = "", []
    if len(officer_ids) <= 500:  # else read all and keep the officers' in Python
        officers = " AND r.officer_id IN (" + ",".join(["%s"] * len(officer_ids)) + ")"
        chosen = sorted(officer_ids)
    out: dict[int, list[RecordingFacts]] = defaultdict(list)
    seen: set[int] = set()
    for where, params in (
        (_BY_TIME, [param(lo), param(hi)]),
        (_BY_SKEW, [SKEWED_S, -SKEWED_S]),
    ):
        skewed = where is _BY_SKEW
        for rec in _read(where, [*params, *chosen], officers, officer_ids):
            if rec.id in seen:
                continue
            if skewed and not lo <= rec.trigger_on_at - _offset(rec) <= hi:
                continue
            seen.add(rec.id)
            out[rec.officer].append(rec.facts)
    for listed in out.values():
        listed.sort(key=lambda r: (r.span()[0], r.id))  # nearly sorted already: linear
    return out


@dataclass(frozen=True, slots=True)
class _Read:
    officer: int
    facts: RecordingFacts

    @property
    def id(self) -> int:
        return self.facts.id

    @property
    def trigger_on_at(self) -> datetime:
        return self.facts.trigger_on_at


def _offset(rec: _Read) -> timedelta:
    return timedelta(seconds=rec.facts.clock_offset_s or 0.0)


_MUTED_BY_ID = (
    "SELECT o.recording_id FROM evidence_original o WHERE o.recording_id IN ({ids}) "
    "GROUP BY o.recording_id HAVING MAX(CASE WHEN o.audio_codec <> '' THEN 1 ELSE 0 END) = 0"
)


def _muted_by_id(ids: list[int]) -> set[int]:
    out: set[int] = set()
    for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        chunk = ids[i : i + 900]
        sql = _MUTED_BY_ID.format(ids=",".join(["%s"] * len(chunk)))
        out.update(row[0] for row in _rows(sql, chunk))
    return out


def _read(where: str, params: list[Any], officers: str, wanted: set[int]) -> Iterator[_Read]:
    """The recordings `where` selects, of the `wanted` officers. Muted audio: by one
    grouped query over the same range for the read by time; by id for the few skewed
    cameras (their range is the whole table)."""
    if where is _BY_SKEW:
        found = list(_read_rows(where, params, officers, wanted, set()))
        muted = _muted_by_id([r.id for r in found]) if found else set()
        for r in found:
            yield r if r.id not in muted else _Read(r.officer, replace(r.facts, muted=True))
        return
    muted = {row[0] for row in _rows(_MUTED.format(where=where, officers=officers), params)}
    yield from _read_rows(where, params, officers, wanted, muted)


def _read_rows(
    where: str, params: list[Any], officers: str, wanted: set[int], muted: set[int]
) -> Iterator[_Read]:
    parse = _parser()
    sql = _RECORDINGS.format(
        where=where,
        officers=officers,
        on=_time("r.trigger_on_at"),
        off=_time("r.trigger_off_at"),
        track=_text("r.gps_track"),
    )
    for pk, officer, on, off, pre, lat, lon, track, offset in _rows(sql, params):
        if officer not in wanted:
            continue
        yield _Read(
            officer,
            RecordingFacts(
                id=pk,
                trigger_on_at=parse(on),
                trigger_off_at=None if off is None else parse(off),
                pre_event_seconds=pre or 0.0,
                clock_offset_s=offset,
                places=places(lat, lon, track),
                muted=pk in muted,
            ),
        )


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    id: int
    officer_id: int | None
    officer_number: str
    arrived_at: datetime
    departed_at: datetime
    reference: str
    type: str
    borough: str
    team: str
    place: tuple[float, float] | None


# An attendance imported before its officer was registered is matched by number now.
_ATTENDANCES = (
    "SELECT a.id, COALESCE(a.officer_id, o.id), a.officer_number, {arrived} AS arrived_text, "
    "{departed} AS departed_text, d.reference, d.type, d.borough, d.team, d.latitude, d.longitude "
    "FROM oversight_attendance a JOIN oversight_deployment d ON d.id = a.deployment_id "
    "LEFT JOIN evidence_officer o ON a.officer_id IS NULL AND o.number = a.officer_number "
    "WHERE a.arrived_at >= %s AND a.arrived_at < %s{borough} "
    "ORDER BY a.arrived_at, d.reference, a.id"
)


def attendances(lo: datetime, hi: datetime, borough: str | None) -> list[AttendanceRow]:
    params: list[Any] = [param(lo), param(hi)]
    extra = ""
    if borough:
        extra = " AND LOWER(d.borough) = LOWER(%s)"
        params.append(borough)
    out = []
    sql = _ATTENDANCES.format(
        borough=extra, arrived=_time("a.arrived_at"), departed=_time("a.departed_at")
    )
    parse = _parser()
    for row in _rows(sql, params):
        pk, officer, number, arrived, departed, reference, kind, name, team, lat, lon = row
        place = None if lat is None or lon is None else (lat, lon)
        out.append(
            AttendanceRow(
                pk,
                officer,
                number,
                parse(arrived),
                parse(departed),
                reference,
                kind,
                name,
                team,
                place,
            )
        )
    return out


_INSERT = (
    "INSERT INTO oversight_verdict (attendance_id, status, activation_delay_s, early_stop_s, "
    "recordings, gaps, muted_audio, borough, team, month, computed_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_COLUMNS = (
    "attendance_id, status, activation_delay_s, early_stop_s, recordings, gaps, muted_audio, "
    "borough, team, month, computed_at"
)
# The verdicts of exactly the attendances `attendances()` reads for the same arguments.
_DELETE = (
    "DELETE FROM oversight_verdict WHERE attendance_id IN (SELECT a.id FROM "
    "oversight_attendance a JOIN oversight_deployment d ON d.id = a.deployment_id "
    "WHERE a.arrived_at >= %s AND a.arrived_at < %s{borough})"
)


def _ids_json(ids: list[int]) -> str:
    """The same text as json.dumps for a list of ints, at a fraction of its cost."""
    return "[" + ", ".join(map(str, ids)) + "]"


def store_verdicts(
    lo: datetime, hi: datetime, borough: str | None, rows: list[tuple[Any, ...]], now: datetime
) -> None:
    """Replace the verdicts of the attendances that began in [lo, hi) (in `borough`) by
    `rows` (attendance id, status, delay, early stop, recording ids, gaps, muted, borough,
    team, month): one DELETE, then COPY (PostgreSQL) or executemany (SQLite)."""
    params: list[Any] = [param(lo), param(hi)]
    extra = ""
    if borough:
        extra = " AND LOWER(d.borough) = LOWER(%s)"
        params.append(borough)
    stamp = param(now)
    prepared = [
        (*r[:4], _ids_json(r[4]), json.dumps(r[5]) if r[5] else "[]", *r[6:10], stamp) for r in rows
    ]
    with connection.cursor() as cursor:
        cursor.execute(_DELETE.format(borough=extra), params)
        if connection.vendor == "postgresql":
            # COPY: one statement for the month instead of one INSERT per attendance.
            copy_sql = f"COPY oversight_verdict ({_COLUMNS}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in prepared:
                    copy.write_row(row)
        else:
            for i in range(0, len(prepared), CHUNK):
                cursor.executemany(_INSERT, prepared[i : i + CHUNK])
