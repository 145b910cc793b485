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
    """A database time as an aware UTC datetime (SQLite gives text, PostgreSQL datetimes)."""
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
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
    """A time column as SQLite's own text, parsed here by datetime.fromisoformat: the
    driver's converter (a regular expression per value) costs more than the rules."""
    return f"CAST({column} AS TEXT)" if connection.vendor == "sqlite" else column


_RECORDINGS = (
    "SELECT id, officer_id, {on}, {off}, pre_event_seconds, start_latitude, "
    "start_longitude, gps_track, clock_offset_s FROM evidence_recording "
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
            officers=officers, on=_time("trigger_on_at"), off=_time("trigger_off_at")
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


_ATTENDANCES = (
    "SELECT a.id, a.officer_id, a.officer_number, {arrived}, {departed}, d.reference, "
    "d.type, d.borough, d.team, d.latitude, d.longitude FROM oversight_attendance a "
    "JOIN oversight_deployment d ON d.id = a.deployment_id "
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
    "VALUES (%s, %s, %s, %s, {json}, {json}, %s, %s, %s, %s, %s)"
)


def store_verdicts(rows: list[tuple[Any, ...]]) -> None:
    """Replace the verdicts of these attendances (rows as in _INSERT, lists as lists)."""
    json_value = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = _INSERT.format(json=json_value)
    ids = [r[0] for r in rows]
    with connection.cursor() as cursor:
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join(["%s"] * len(chunk))  # placeholders only: the ids are parameters
            cursor.execute(f"DELETE FROM oversight_verdict WHERE attendance_id IN ({marks})", chunk)  # noqa: S608
        prepared = [
            (*r[:4], json.dumps(r[4]), json.dumps(r[5]), *r[6:10], param(r[10])) for r in rows
        ]
        for i in range(0, len(prepared), CHUNK):
            cursor.executemany(sql, prepared[i : i + CHUNK])
