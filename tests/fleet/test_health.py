"""The health rules, pure: each threshold on its own and the worst state deciding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from overt.fleet.health import ATTENTION, LOST, OK, Facts, Thresholds, assess

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
LIMITS = Thresholds()


def _facts(**kw: object) -> Facts:
    base: dict[str, object] = {
        "now": NOW,
        "registered_at": NOW - timedelta(days=30),
        "last_dock_at": NOW - timedelta(hours=1),
        "battery_percent": 80.0,
        "free_bytes": 30 << 30,
        "clock_offset_s": 0.1,
        "config_expected": 3,
        "config_applied": 3,
        "key_status": "active",
    }
    return Facts(**{**base, **kw})  # type: ignore[arg-type]


def test_a_camera_that_docked_lately_and_is_well_is_ok() -> None:
    assert assess(_facts(), LIMITS).state == OK
    assert assess(_facts(), LIMITS).reasons == ()


def test_each_problem_is_a_reason_for_attention() -> None:
    cases = {
        "not docked for 30 h": {"last_dock_at": NOW - timedelta(hours=30)},
        "battery 12%": {"battery_percent": 12.0},
        "storage nearly full": {"free_bytes": 1 << 30},
        "clock -3.5 s": {"clock_offset_s": -3.5},
        "config behind: applied v2, current v3": {"config_applied": 2},
        "config behind: applied none": {"config_applied": None},
        "reported error: SD card": {"last_error": "SD card write failed"},
        "no active capture-signing key": {"key_status": "none"},
        "GB not yet offloaded": {"pending_bytes": 5 << 30},
        "never docked": {"last_dock_at": None, "registered_at": NOW - timedelta(days=1)},
    }
    for reason, change in cases.items():
        health = assess(_facts(**change), LIMITS)
        assert health.state == ATTENTION, reason
        assert len(health.reasons) == 1 and reason in health.reasons[0], health.reasons


def test_silence_beyond_the_lost_threshold_is_lost_whatever_else() -> None:
    health = assess(_facts(last_dock_at=NOW - timedelta(days=8), battery_percent=5.0), LIMITS)
    assert health.state == LOST and "no contact for 8 days" in health.reasons[0]
    never = assess(_facts(last_dock_at=None, registered_at=NOW - timedelta(days=9)), LIMITS)
    assert never.state == LOST and "never docked" in never.reasons[0]


def test_thresholds_are_settings_not_constants() -> None:
    strict = Thresholds(clock_offset_max_s=0.05, battery_low_percent=90)
    health = assess(_facts(), strict)
    assert health.state == ATTENTION and len(health.reasons) == 2


def test_a_revoked_camera_is_not_an_alarm() -> None:
    health = assess(_facts(revoked=True, last_dock_at=None), LIMITS)
    assert health.state == OK and "revoked" in health.reasons[0]
