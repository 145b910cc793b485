"""Reading the catalogue for compliance in bulk, and storing verdicts in bulk.

Plain SQL (the same on SQLite and PostgreSQL) instead of ORM instances: for a month of a
large force (hundreds of thousands of rows) the ORM's per-row conversions cost more than
the rules themselves (bench/oversight.py). Times come back as aware UTC datetimes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from .rules import RecordingFacts

MAX_TRACK_POINTS = 64  # a long GNSS track is thinned to this many points for matching
CHUNK = 5000


def when(value: Any) -> datetime:
    """A database time as an aware UTC datetime (SQLite gives text, with the offset that
    `_time` appends; PostgreSQL gives datetimes)."""
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
    """A time column as SQLite's own text (naive UTC) with its offset appended, parsed
    here by datetime.fromisoformat: the driver's converter (a regular expression per
    value) and a replace(tzinfo=) each cost more than the rules."""
    return f"(CAST({column} AS TEXT) || '+00:00')" if connection.vendor == "sqlite" else column


def _text(column: str) -> str:
    """A JSON column as its text: psycopg would parse every track, most of them empty;
    `places` parses only those with points."""
    return f"CAST({column} AS TEXT)" if connection.vendor == "postgresql" else column


_RECORDINGS = (
    "SELECT id, officer_id, {on}, {off}, pre_event_seconds, start_latitude, "
    "start_longitude, {track}, clock_offset_s FROM evidence_recording "
    "WHERE trigger_on_at >= %s AND trigger_on_at <= %s{officers} "
    "ORDER BY officer_id, trigger_on_at, id"
)
# Recordings whose originals carry no audio track at all (muted, or the microphone off).
_MUTED = (
    "SELECT o.recording_id FROM evidence_original o JOIN evidence_recording r "
    "ON r.id = o.recording_id WHERE r.trigger_on_at >= %s AND r.trigger_on_at <= %s{officers} "
    "GROUP BY o.recording_id HAVING MAX(CASE WHEN o.audio_codec <> '' THEN 1 ELSE 0 END) = 0"
)


def recordings(
    officer_ids: set[int], lo: datetime, hi: datetime
) -> dict[int, list[RecordingFacts]]:
    """Each officer's recordings that began in [lo, hi], sorted by trigger-on time."""
    params: list[Any] = [param(lo), param(hi)]
    officers = ""
    if len(officer_ids) <= 500:  # else read all and keep the officers' in Python
        if not officer_ids:
            return {}
        officers = " AND officer_id IN (" + ",".join(["%s"] * len(officer_ids)) + ")"
        params += sorted(officer_ids)
    muted = {
        row[0]
        for row in _rows(
            _MUTED.format(officers=officers.replace("officer_id", "r.officer_id")), params
        )
    }
    out: dict[int, list[RecordingFacts]] = defaultdict(list)
    for pk, officer, on, off, pre, lat, lon, track, offset in _rows(
        _RECORDINGS.format(
            officers=officers,
            on=_time("trigger_on_at"),
            off=_time("trigger_off_at"),
            track=_text("gps_track"),
        ),
        params,
    ):
        if officer not in officer_ids:
            continue
        out[officer].append(
            RecordingFacts(
                id=pk,
                trigger_on_at=when(on),
                trigger_off_at=None if off is None else when(off),
                pre_event_seconds=pre or 0.0,
                clock_offset_s=offset,
                places=places(lat, lon, track),
                muted=pk in muted,
            )
        )
    return out


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
    "SELECT a.id, COALESCE(a.officer_id, o.id), a.officer_number, {arrived}, {departed}, "
    "d.reference, d.type, d.borough, d.team, d.latitude, d.longitude "
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
    for row in _rows(sql, params):
        pk, officer, number, arrived, departed, reference, kind, name, team, lat, lon = row
        place = None if lat is None or lon is None else (lat, lon)
        out.append(
            AttendanceRow(
                pk,
                officer,
                number,
                when(arrived),
                when(departed),
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
    empty = "[]"
    prepared = [
        (
            *r[:4],
            json.dumps(r[4]) if r[4] else empty,
            json.dumps(r[5]) if r[5] else empty,
            *r[6:10],
            stamp,
        )
        for r in rows
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
