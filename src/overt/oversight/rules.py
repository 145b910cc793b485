"""Activation compliance, as pure functions (no Django): one attendance, its officer's
recordings, the thresholds in; one verdict out. docs/oversight.md has worked examples.

Times on a recording are the camera's. A recording's `clock_offset_s` is the camera's
clock minus the server's, so its true times are its times minus the offset; its
pre-event buffer (`pre_event_seconds`) is footage from before the trigger, so it counts
towards recording from the outset.

Statuses, first that applies: no-footage, late, early-stop, gaps, recorded.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

STATUSES = ("recorded", "late", "early-stop", "gaps", "no-footage")
EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True)
class Thresholds:
    activation_grace_s: float = 30.0  # on within this of arrival counts as from the outset
    early_stop_grace_s: float = 30.0  # off within this of departure counts as to the end
    gap_tolerance_s: float = 60.0  # uncovered stretches inside the attendance shorter: ignored
    match_window_s: float = 900.0  # a recording this far outside the attendance may still match
    place_radius_m: float = 1000.0  # where both have a place, farther recordings do not match


@dataclass(frozen=True)
class RecordingFacts:
    id: int
    trigger_on_at: datetime
    trigger_off_at: datetime | None
    pre_event_seconds: float = 0.0
    clock_offset_s: float | None = None
    places: tuple[tuple[float, float], ...] = ()  # (lat, lon): its start and its track
    muted: bool = False  # no audio track, or the camera reported audio muted
    _span: tuple[datetime, datetime] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Computed once here: a month's run asks each recording for it several times, and
        # a cached_property costs more than this on every access.
        skew = timedelta(seconds=self.clock_offset_s or 0.0)
        start = self.trigger_on_at - skew - timedelta(seconds=max(self.pre_event_seconds, 0.0))
        # No trigger-off yet (still uploading): it covers only its start, never more.
        end = (self.trigger_off_at or self.trigger_on_at) - skew
        object.__setattr__(self, "_span", (start, max(start, end)))

    def span(self) -> tuple[datetime, datetime]:
        """When it covers, in server time: from the start of its buffer to trigger off."""
        return self._span


@dataclass(frozen=True)
class AttendanceFacts:
    arrived_at: datetime
    departed_at: datetime
    place: tuple[float, float] | None = None


@dataclass(frozen=True)
class Verdict:
    status: str
    activation_delay_s: float | None  # None: no footage
    early_stop_s: float | None
    recordings: tuple[int, ...]  # ids of the recordings matched, in time order
    gaps: tuple[tuple[float, float], ...] = ()  # (from, to) seconds after arrival
    muted_audio: bool = False


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance in metres on the equirectangular projection: within 0.1% of the
    great-circle distance at the few kilometres the match radius allows (at most 100 km),
    and a fraction of its cost, which matters over a month of recordings."""
    mean_lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(mean_lat)
    dy = math.radians(b[0] - a[0])
    return EARTH_RADIUS_M * math.hypot(dx, dy)


def near(place: tuple[float, float] | None, rec: RecordingFacts, radius_m: float) -> bool:
    """Where both have a place, some point of the recording lies within the radius."""
    if place is None or not rec.places:
        return True
    return any(distance_m(place, p) <= radius_m for p in rec.places)


def matches(
    start: datetime,
    end: datetime,
    place: tuple[float, float] | None,
    recordings: Iterable[RecordingFacts],
    limits: Thresholds,
) -> list[RecordingFacts]:
    """The recordings that belong to a window: overlapping it (widened by the match
    window) and, where both have a place, near it. Also used for complaints."""
    margin = timedelta(seconds=limits.match_window_s)
    lo, hi = start - margin, end + margin
    found = []
    for rec in recordings:
        rec_start, rec_end = rec.span()
        if (
            rec_end >= lo
            and rec_start <= hi
            and (place is None or not rec.places or near(place, rec, limits.place_radius_m))
        ):
            found.append(rec)
    found.sort(key=lambda r: (r.span()[0], r.id))
    return found


def covered(
    spans: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The union of the spans, clipped to [start, end], as sorted disjoint intervals."""
    merged: list[tuple[datetime, datetime]] = []
    clipped = []
    for a, b in spans:
        if end > start and (b <= start or a >= end):
            continue  # touches the window at an edge only (ended at arrival): none of it filmed
        clipped.append((max(a, start), min(b, end)))
    for a, b in sorted(clipped):
        if b < a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def judge(
    attendance: AttendanceFacts, recordings: Iterable[RecordingFacts], limits: Thresholds
) -> Verdict:
    """The verdict on one attendance, given the recordings of its officer."""
    arrived, departed = attendance.arrived_at, attendance.departed_at
    found = matches(arrived, departed, attendance.place, recordings, limits)
    ids = tuple(r.id for r in found)
    spans = [r.span() for r in found]
    inside = covered(spans, arrived, departed)
    if not inside:
        # Nothing matched, or matched only in the margins around the attendance: nothing
        # of it was filmed.
        return Verdict("no-footage", None, None, ids, muted_audio=any(r.muted for r in found))
    # Measured on the footage inside the attendance: a recording that ended before the
    # arrival (or began after the departure) is matched and listed, but it does not make
    # a camera switched on late count as on from the outset, nor one switched off early
    # as on to the end.
    delay = (inside[0][0] - arrived).total_seconds()
    early = (departed - inside[-1][1]).total_seconds()
    gaps = []
    for (_, b), (a, _) in itertools.pairwise(inside):
        if (a - b).total_seconds() > limits.gap_tolerance_s:
            gaps.append(((b - arrived).total_seconds(), (a - arrived).total_seconds()))
    if delay > limits.activation_grace_s:
        status = "late"
    elif early > limits.early_stop_grace_s:
        status = "early-stop"
    elif gaps:
        status = "gaps"
    else:
        status = "recorded"
    return Verdict(
        status,
        round(delay, 3),
        round(early, 3),
        ids,
        tuple(gaps),
        any(r.muted for r in found),
    )
