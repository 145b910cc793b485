"""Running the compliance rules (overt.oversight.rules) over the catalogue.

`run()` judges every attendance that began in a date range, stores each verdict (the
dashboards read those) and returns them with the rates. Recordings are read once, in
bulk, and grouped by officer; each attendance looks only at its officer's recordings near
its time, so a month of a large force is a few queries and a linear pass.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from overt import errors
from overt.conf import get_settings
from overt.evidence.models import Original, Recording

from .models import Attendance, Verdict
from .rates import Judged, all_rates
from .rules import AttendanceFacts, RecordingFacts, Thresholds, judge

# A recording that began more than this before an attendance is not looked at for it.
LONGEST_RECORDING = timedelta(hours=12)
MAX_TRACK_POINTS = 64  # a long GNSS track is thinned to this many points for matching
BATCH = 2000


def thresholds() -> Thresholds:
    s = get_settings()
    return Thresholds(
        activation_grace_s=s.oversight_activation_grace_s,
        early_stop_grace_s=s.oversight_early_stop_grace_s,
        gap_tolerance_s=s.oversight_gap_tolerance_s,
        match_window_s=s.oversight_match_window_s,
        place_radius_m=s.oversight_place_radius_m,
    )


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the instance's time zone, as UTC."""
    if end < start:
        raise errors.Invalid(f"--to {end} is before --from {start}", field="to")
    tz = zone()
    lo = datetime.combine(start, time(), tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC)
    return lo, hi


def month_bounds(month: str) -> tuple[date, date]:
    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise errors.Invalid(f"{month!r} is not a month such as 2026-11", field="month") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def _places(lat: float | None, lon: float | None, track: Any) -> tuple[tuple[float, float], ...]:
    points: list[tuple[float, float]] = []
    if lat is not None and lon is not None:
        points.append((lat, lon))
    if isinstance(track, list) and track:
        step = max(1, len(track) // MAX_TRACK_POINTS)
        for p in track[::step]:
            if isinstance(p, dict) and isinstance(p.get("lat"), int | float):
                if isinstance(p.get("lon"), int | float):
                    points.append((float(p["lat"]), float(p["lon"])))
    return tuple(points)


def recordings_by_officer(
    officer_ids: set[int], lo: datetime, hi: datetime, limits: Thresholds
) -> dict[int, list[RecordingFacts]]:
    """Each officer's recordings that could touch [lo, hi], sorted by trigger-on time."""
    margin = timedelta(seconds=limits.match_window_s) + LONGEST_RECORDING
    audio = Original.objects.filter(recording=OuterRef("pk")).exclude(audio_codec="")
    any_original = Original.objects.filter(recording=OuterRef("pk"))
    query = (
        Recording.objects.filter(trigger_on_at__gte=lo - margin, trigger_on_at__lte=hi + margin)
        .annotate(has_audio=Exists(audio), has_originals=Exists(any_original))
        .order_by("officer_id", "trigger_on_at", "pk")
    )
    if len(officer_ids) <= 900:
        query = query.filter(officer_id__in=officer_ids)
    fields = (
        "pk",
        "officer_id",
        "trigger_on_at",
        "trigger_off_at",
        "pre_event_seconds",
        "start_latitude",
        "start_longitude",
        "gps_track",
        "has_audio",
        "has_originals",
    )
    # The capture engineer's clock offset, where this catalogue has it.
    has_offset = any(f.name == "clock_offset_s" for f in Recording._meta.get_fields())
    out: dict[int, list[RecordingFacts]] = defaultdict(list)
    for row in query.values_list(*fields, *(("clock_offset_s",) if has_offset else ())).iterator(
        chunk_size=5000
    ):
        if row[1] not in officer_ids:
            continue
        out[row[1]].append(
            RecordingFacts(
                id=row[0],
                trigger_on_at=row[2],
                trigger_off_at=row[3],
                pre_event_seconds=row[4] or 0.0,
                clock_offset_s=row[10] if has_offset else None,
                places=_places(row[5], row[6], row[7]),
                muted=bool(row[9]) and not row[8],
            )
        )
    return out


@dataclass(frozen=True)
class Outcome:
    judged: list[Judged]
    rates: dict[str, list[dict[str, Any]]]

    def as_json(self) -> dict[str, Any]:
        return {"attendances": [j.row() for j in self.judged], "rates": self.rates}


def attendances(lo: datetime, hi: datetime, borough: str | None) -> Any:
    query = Attendance.objects.filter(arrived_at__gte=lo, arrived_at__lt=hi)
    if borough:
        query = query.filter(deployment__borough__iexact=borough)
    return query.select_related("deployment").order_by("arrived_at", "deployment__reference", "pk")


def run(start: date, end: date, borough: str | None = None, *, store: bool = True) -> Outcome:
    """Judge every attendance that began from `start` to `end` (days, inclusive)."""
    lo, hi = day_bounds(start, end)
    limits = thresholds()
    rows = list(attendances(lo, hi, borough))
    officer_ids = {a.officer_id for a in rows if a.officer_id is not None}
    by_officer = recordings_by_officer(officer_ids, lo, hi, limits)
    starts = {k: [r.trigger_on_at for r in v] for k, v in by_officer.items()}
    margin = timedelta(seconds=limits.match_window_s)
    tz = zone()
    judged, verdicts = [], []
    now = datetime.now(UTC)
    for a in rows:
        dep = a.deployment
        mine = by_officer.get(a.officer_id or -1, [])
        if mine:
            first = bisect.bisect_left(
                starts[a.officer_id], a.arrived_at - margin - LONGEST_RECORDING
            )
            last = bisect.bisect_right(
                starts[a.officer_id], a.departed_at + margin + LONGEST_RECORDING
            )
            mine = mine[first:last]
        place = None if dep.latitude is None else (dep.latitude, dep.longitude)
        verdict = judge(AttendanceFacts(a.arrived_at, a.departed_at, place), mine, limits)
        month = a.arrived_at.astimezone(tz).strftime("%Y-%m")
        judged.append(
            Judged(
                dep.reference,
                a.officer_number,
                verdict.status,
                verdict.activation_delay_s,
                verdict.early_stop_s,
                verdict.recordings,
                dep.borough,
                dep.team,
                month,
                verdict.muted_audio,
            )
        )
        verdicts.append(
            Verdict(
                attendance_id=a.pk,
                status=verdict.status,
                activation_delay_s=verdict.activation_delay_s,
                early_stop_s=verdict.early_stop_s,
                recordings=list(verdict.recordings),
                gaps=[list(g) for g in verdict.gaps],
                muted_audio=verdict.muted_audio,
                borough=dep.borough,
                team=dep.team,
                month=month,
                computed_at=now,
            )
        )
    if store:
        with transaction.atomic():
            ids = [v.attendance_id for v in verdicts]
            for i in range(0, len(ids), 900):
                Verdict.objects.filter(attendance_id__in=ids[i : i + 900]).delete()
            Verdict.objects.bulk_create(verdicts, batch_size=BATCH)
    return Outcome(judged, all_rates(judged))


def stored(borough: str | None = None, month: str | None = None, status: str | None = None) -> Any:
    """Verdicts as last computed, for the dashboards and their drill-down."""
    query = Verdict.objects.select_related("attendance__deployment")
    filters = Q()
    if borough:
        filters &= Q(borough=borough)
    if month:
        filters &= Q(month=month)
    if status:
        filters &= Q(status=status)
    return query.filter(filters)
