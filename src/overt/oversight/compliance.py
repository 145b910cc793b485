"""Running the compliance rules (overt.oversight.rules) over the catalogue.

`run()` judges every attendance that began in a date range, stores each verdict (the
dashboards read those) and returns them with the rates. Recordings are read once, in
bulk (overt.oversight.reading), and grouped by officer; each attendance looks only at its
officer's recordings near its time, so a month of a large force is a few queries and a
linear pass.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from overt import errors
from overt.conf import get_settings

from . import reading
from .rates import Judged, all_rates
from .rules import AttendanceFacts, RecordingFacts, Thresholds, judge

# A recording that began more than this before an attendance is not looked at for it.
LONGEST_RECORDING = timedelta(hours=12)


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
        if not (len(month) == 7 and month[4] == "-"):  # strptime also takes "2026-1"
            raise ValueError(month)
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise errors.Invalid(f"{month!r} is not a month such as 2026-11", field="month") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def recordings_by_officer(
    officer_ids: set[int], lo: datetime, hi: datetime, limits: Thresholds
) -> dict[int, list[RecordingFacts]]:
    """Each officer's recordings that could touch [lo, hi], sorted by span start."""
    margin = timedelta(seconds=limits.match_window_s) + LONGEST_RECORDING
    return reading.recordings(officer_ids, lo - margin, hi + margin)


@dataclass(frozen=True)
class Outcome:
    judged: list[Judged]
    rates: dict[str, list[dict[str, Any]]]

    def as_json(self) -> dict[str, Any]:
        return {"attendances": [j.row() for j in self.judged], "rates": self.rates}


def run(start: date, end: date, borough: str | None = None, *, store: bool = True) -> Outcome:
    """Judge every attendance that began from `start` to `end` (days, inclusive)."""
    lo, hi = day_bounds(start, end)
    limits = thresholds()
    rows = reading.attendances(lo, hi, borough)
    officer_ids = {a.officer_id for a in rows if a.officer_id is not None}
    by_officer = recordings_by_officer(officer_ids, lo, hi, limits)
    # By the start of each span (server time), as `recordings` sorts them.
    starts = {k: [r.span()[0] for r in v] for k, v in by_officer.items()}
    reach = timedelta(seconds=limits.match_window_s) + LONGEST_RECORDING
    tz = zone()
    months: dict[tuple[int, int, int, int], str] = {}
    judged, verdicts = [], []
    now = datetime.now(UTC)
    for a in rows:
        mine: list[RecordingFacts] = []
        if a.officer_id is not None and a.officer_id in by_officer:
            times = starts[a.officer_id]
            first = bisect.bisect_left(times, a.arrived_at - reach)
            last = bisect.bisect_right(times, a.departed_at + reach)
            mine = by_officer[a.officer_id][first:last]
        verdict = judge(AttendanceFacts(a.arrived_at, a.departed_at, a.place), mine, limits)
        hour = (a.arrived_at.year, a.arrived_at.month, a.arrived_at.day, a.arrived_at.hour)
        if hour not in months:  # the month in the instance's time zone, once per UTC hour
            months[hour] = a.arrived_at.astimezone(tz).strftime("%Y-%m")
        month = months[hour]
        judged.append(
            Judged(
                a.reference,
                a.officer_number,
                verdict.status,
                verdict.activation_delay_s,
                verdict.early_stop_s,
                verdict.recordings,
                a.borough,
                a.team,
                month,
                verdict.muted_audio,
            )
        )
        verdicts.append(
            (
                a.id,
                verdict.status,
                verdict.activation_delay_s,
                verdict.early_stop_s,
                list(verdict.recordings),
                [list(g) for g in verdict.gaps],
                verdict.muted_audio,
                a.borough,
                a.team,
                month,
            )
        )
    if store:
        from .dashboard import take_snapshot

        with transaction.atomic():
            reading.store_verdicts(lo, hi, borough, verdicts, now)
            take_snapshot()
    return Outcome(judged, all_rates(judged))
