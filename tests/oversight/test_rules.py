"""The compliance rules (pure), by example and by property (hypothesis)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from overt.oversight import rules
from overt.oversight.rules import AttendanceFacts, RecordingFacts, Thresholds, judge

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
LIMITS = Thresholds(
    activation_grace_s=30, early_stop_grace_s=30, gap_tolerance_s=60, match_window_s=900
)
SCENE = (51.4977, -0.1415)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def rec(i: int, on: float, off: float | None, **kw: object) -> RecordingFacts:
    return RecordingFacts(i, s(on), None if off is None else s(off), **kw)  # type: ignore[arg-type]


ATTEND = AttendanceFacts(s(0), s(1800), SCENE)


def test_recorded_from_the_outset() -> None:
    v = judge(ATTEND, [rec(1, -60, 1860)], LIMITS)
    assert (v.status, v.activation_delay_s, v.early_stop_s, v.recordings) == (
        "recorded",
        0,
        0,
        (1,),
    )


def test_late_by_the_delay_against_arrival() -> None:
    v = judge(ATTEND, [rec(1, 95, 1800)], LIMITS)
    assert (v.status, v.activation_delay_s) == ("late", 95)


def test_the_pre_event_buffer_counts() -> None:
    v = judge(ATTEND, [rec(1, 95, 1800, pre_event_seconds=80)], LIMITS)
    assert (v.status, v.activation_delay_s) == ("recorded", 15)


def test_the_clock_offset_is_taken_off_camera_times() -> None:
    # The camera's clock runs 120 s fast: on at camera 14:02:00 is 14:00:00 server time.
    v = judge(ATTEND, [rec(1, 120, 1920, clock_offset_s=120)], LIMITS)
    assert (v.status, v.activation_delay_s, v.early_stop_s) == ("recorded", 0, 0)
    slow = judge(ATTEND, [rec(1, 0, 1800, clock_offset_s=-90)], LIMITS)
    assert (slow.status, slow.activation_delay_s) == ("late", 90)


def test_stopped_early() -> None:
    v = judge(ATTEND, [rec(1, 0, 1500)], LIMITS)
    assert (v.status, v.early_stop_s) == ("early-stop", 300)


def test_gaps_inside_the_attendance() -> None:
    v = judge(ATTEND, [rec(1, 0, 600), rec(2, 700, 1800)], LIMITS)
    assert v.status == "gaps" and v.gaps == ((600, 700),) and v.recordings == (1, 2)
    tolerated = judge(ATTEND, [rec(1, 0, 600), rec(2, 650, 1800)], LIMITS)
    assert tolerated.status == "recorded"


def test_no_footage_and_footage_only_outside_the_attendance() -> None:
    assert judge(ATTEND, [], LIMITS).status == "no-footage"
    before = judge(ATTEND, [rec(1, -800, -100)], LIMITS)
    assert before.status == "no-footage" and before.activation_delay_s is None


def test_a_recording_far_from_the_scene_does_not_match() -> None:
    far = rec(1, 0, 1800, places=((51.60, -0.30),))
    assert judge(ATTEND, [far], LIMITS).status == "no-footage"
    assert judge(AttendanceFacts(s(0), s(1800)), [far], LIMITS).status == "recorded"  # no place


def test_muted_audio_is_reported() -> None:
    assert judge(ATTEND, [rec(1, 0, 1800, muted=True)], LIMITS).muted_audio


def test_footage_outside_the_attendance_does_not_hide_a_late_start_or_early_stop() -> None:
    # Hostile: an earlier clip that ended before arrival (within the match window) once
    # made a camera switched on 5 minutes late count as on from the outset; a later
    # clip after departure hid a camera switched off 10 minutes early.
    late = judge(ATTEND, [rec(1, -600, -300), rec(2, 300, 1800)], LIMITS)
    assert (late.status, late.activation_delay_s, late.recordings) == ("late", 300, (1, 2))
    early = judge(ATTEND, [rec(1, 0, 1200), rec(2, 2100, 2400)], LIMITS)
    assert (early.status, early.early_stop_s) == ("early-stop", 600)
    margins_only = judge(AttendanceFacts(s(0), s(0)), [rec(1, -600, -300)], LIMITS)
    assert margins_only.status == "no-footage"
    # At the boundary (whole-second times make an exact touch common): a clip that ended
    # exactly at arrival, or began exactly at departure, filmed none of the attendance.
    touch = judge(ATTEND, [rec(1, -600, 0), rec(2, 300, 1800)], LIMITS)
    assert (touch.status, touch.activation_delay_s, touch.recordings) == ("late", 300, (1, 2))
    after = judge(ATTEND, [rec(1, 1800, 2400)], LIMITS)
    assert (after.status, after.activation_delay_s, after.recordings) == ("no-footage", None, (1,))
    stop = judge(ATTEND, [rec(1, 0, 1200), rec(2, 1800, 2400)], LIMITS)
    assert (stop.status, stop.early_stop_s) == ("early-stop", 600)


def test_the_rules_import_no_django() -> None:
    for name in ("rules.py", "rates.py", "contract.py", "sampling.py"):
        tree = ast.parse((Path(rules.__file__).parent / name).read_text())
        imported = {
            (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in n.names
        }
        assert not {m for m in imported if m.startswith(("django", "overt."))}, name


spans = st.lists(
    st.tuples(st.integers(-2000, 4000), st.integers(0, 3000), st.integers(0, 60)), max_size=6
)


def build(items: list[tuple[int, int, int]]) -> list[RecordingFacts]:
    return [
        rec(i, on, on + length, pre_event_seconds=pre) for i, (on, length, pre) in enumerate(items)
    ]


@settings(max_examples=300, deadline=None)
@given(spans)
def test_properties_of_every_verdict(items: list[tuple[int, int, int]]) -> None:
    v = judge(ATTEND, build(items), LIMITS)
    assert v.status in rules.STATUSES
    if v.status == "no-footage":
        assert v.activation_delay_s is None and v.early_stop_s is None
        return
    assert v.activation_delay_s is not None and v.early_stop_s is not None
    assert v.activation_delay_s >= 0 and v.early_stop_s >= 0
    assert (v.status == "late") == (v.activation_delay_s > LIMITS.activation_grace_s)
    # The delay and early stop are those of the footage inside the attendance.
    inside = rules.covered([r.span() for r in build(items) if r.id in v.recordings], s(0), s(1800))
    assert v.activation_delay_s == round((inside[0][0] - s(0)).total_seconds(), 3)
    assert v.early_stop_s == round((s(1800) - inside[-1][1]).total_seconds(), 3)
    if v.status == "recorded":
        assert v.early_stop_s <= LIMITS.early_stop_grace_s and not v.gaps
    for a, b in v.gaps:
        assert 0 <= a < b <= 1800 and b - a > LIMITS.gap_tolerance_s


@settings(max_examples=200, deadline=None)
@given(spans, st.integers(1, 600))
def test_turning_on_earlier_never_makes_it_later(
    items: list[tuple[int, int, int]], earlier: int
) -> None:
    before = judge(ATTEND, build(items), LIMITS)
    moved = judge(
        ATTEND, build([(on - earlier, length + earlier, pre) for on, length, pre in items]), LIMITS
    )
    if before.activation_delay_s is not None and moved.activation_delay_s is not None:
        assert moved.activation_delay_s <= before.activation_delay_s


@settings(max_examples=200, deadline=None)
@given(spans, st.floats(-3600, 3600))
def test_a_clock_offset_is_the_same_as_shifted_times(
    items: list[tuple[int, int, int]], offset: float
) -> None:
    skewed = [
        RecordingFacts(
            r.id,
            r.trigger_on_at + timedelta(seconds=offset),
            r.trigger_off_at + timedelta(seconds=offset),  # type: ignore[operator]
            r.pre_event_seconds,
            clock_offset_s=offset,
        )
        for r in build(items)
    ]
    assert judge(ATTEND, skewed, LIMITS).status == judge(ATTEND, build(items), LIMITS).status


@settings(max_examples=200, deadline=None)
@given(spans, spans)
def test_more_footage_never_loses_footage(
    items: list[tuple[int, int, int]], more: list[tuple[int, int, int]]
) -> None:
    alone = judge(ATTEND, build(items), LIMITS)
    together = judge(ATTEND, build(items + more), LIMITS)
    if alone.status != "no-footage":
        assert together.status != "no-footage"
        assert together.activation_delay_s <= alone.activation_delay_s  # type: ignore[operator]
        assert together.early_stop_s <= alone.early_stop_s  # type: ignore[operator]
