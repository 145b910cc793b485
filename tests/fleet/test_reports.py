"""The status report's checks, pure: the protocol's keys and types, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from overt import errors
from overt.fleet.reports import parse_status

GOOD = {
    "agent_version": "overt-camera 1.0",
    "battery_percent": 55.5,
    "charging": True,
    "free_bytes": 10_000,
    "pending_segments": 2,
    "pending_bytes": 123,
    "clock_offset_s": -0.25,
    "last_error": None,
    "config_version": 4,
    "reported_at": "2026-12-01T10:00:00.123456Z",
}


def test_a_full_report_parses() -> None:
    report = parse_status(GOOD)
    assert report.reported_at == datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert (report.battery_percent, report.charging, report.config_version) == (55.5, True, 4)


def test_nullable_keys_may_be_null_or_absent() -> None:
    minimal = {
        k: GOOD[k] for k in ("agent_version", "pending_segments", "pending_bytes", "reported_at")
    }
    report = parse_status({**minimal, "battery_percent": None, "free_bytes": None})
    assert report.battery_percent is None and report.free_bytes is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"surprise": 1}, "unknown key(s): surprise"),
        ({"battery_percent": 101}, "battery_percent must be between 0 and 100"),
        ({"battery_percent": "50"}, "battery_percent must be a number"),
        ({"pending_bytes": -1}, "pending_bytes must be a whole number"),
        ({"pending_segments": True}, "pending_segments must be a whole number"),
        ({"free_bytes": 1.5}, "free_bytes must be a whole number"),
        ({"charging": "yes"}, "charging must be true, false or null"),
        ({"reported_at": "yesterday"}, "not an RFC 3339 time"),
        ({"reported_at": "2026-12-01T10:00:00"}, "needs a UTC offset"),
        ({"agent_version": ""}, "agent_version must be a string"),
        ({"config_version": -2}, "config_version must be a whole number"),
    ],
)
def test_bad_reports_are_refused_with_the_reason(change: dict, message: str) -> None:
    with pytest.raises(errors.Invalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_status({**GOOD, **change})


def test_missing_keys_and_non_objects_are_refused() -> None:
    with pytest.raises(errors.Invalid, match="missing key"):
        parse_status({"agent_version": "x"})
    with pytest.raises(errors.Invalid, match="JSON object"):
        parse_status([1, 2])
