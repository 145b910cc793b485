"""Checking what a camera agent sends to `POST /api/device/status/`: pure, no database.

The body is the shared camera protocol's (docs/fleet.md): every key known, none unknown,
each of its type and in range, so a bad report is refused whole with a reason (400)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from overt import errors

KEYS = (
    "agent_version",
    "battery_percent",
    "charging",
    "free_bytes",
    "pending_segments",
    "pending_bytes",
    "clock_offset_s",
    "last_error",
    "config_version",
    "reported_at",
)
REQUIRED = ("agent_version", "pending_segments", "pending_bytes", "reported_at")


@dataclass(frozen=True)
class StatusReport:
    agent_version: str
    battery_percent: float | None
    charging: bool | None
    free_bytes: int | None
    pending_segments: int
    pending_bytes: int
    clock_offset_s: float | None
    last_error: str | None
    config_version: int | None
    reported_at: datetime


def _number(body: dict[str, Any], key: str, lo: float, hi: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise errors.Invalid(f"{key} must be a number or null", field=key)
    if not lo <= value <= hi:
        raise errors.Invalid(f"{key} must be between {lo:g} and {hi:g}", field=key)
    return float(value)


def _integer(body: dict[str, Any], key: str, *, nullable: bool) -> int | None:
    value = body.get(key)
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        kind = "a whole number ≥ 0" + (" or null" if nullable else "")
        raise errors.Invalid(f"{key} must be {kind}", field=key)
    return value


def parse_time(value: Any, key: str) -> datetime:
    if not isinstance(value, str):
        raise errors.Invalid(f"{key} must be an RFC 3339 time", field=key)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise errors.Invalid(f"{key} is not an RFC 3339 time: {value[:40]!r}", field=key) from None
    if parsed.tzinfo is None:
        raise errors.Invalid(f"{key} needs a UTC offset (e.g. Z)", field=key)
    return parsed.astimezone(UTC)


def parse_status(body: Any) -> StatusReport:
    """The report, or Invalid naming the first thing wrong with it."""
    if not isinstance(body, dict):
        raise errors.Invalid("the body must be a JSON object")
    unknown = sorted(set(body) - set(KEYS))
    if unknown:
        raise errors.Invalid(f"unknown key(s): {', '.join(unknown)}", field=unknown[0])
    missing = [key for key in REQUIRED if key not in body]
    if missing:
        raise errors.Invalid(f"missing key(s): {', '.join(missing)}", field=missing[0])
    version = body["agent_version"]
    if not isinstance(version, str) or not 0 < len(version) <= 64:
        raise errors.Invalid(
            "agent_version must be a string of 1-64 characters", field="agent_version"
        )
    charging = body.get("charging")
    if charging is not None and not isinstance(charging, bool):
        raise errors.Invalid("charging must be true, false or null", field="charging")
    last_error = body.get("last_error")
    if last_error is not None and not isinstance(last_error, str):
        raise errors.Invalid("last_error must be a string or null", field="last_error")
    pending_segments = _integer(body, "pending_segments", nullable=False)
    pending_bytes = _integer(body, "pending_bytes", nullable=False)
    assert pending_segments is not None and pending_bytes is not None  # not nullable
    return StatusReport(
        agent_version=version,
        battery_percent=_number(body, "battery_percent", 0, 100),
        charging=charging,
        free_bytes=_integer(body, "free_bytes", nullable=True),
        pending_segments=pending_segments,
        pending_bytes=pending_bytes,
        clock_offset_s=_number(body, "clock_offset_s", -1e9, 1e9),
        last_error=(last_error or "")[:2000] or None,
        config_version=_integer(body, "config_version", nullable=True),
        reported_at=parse_time(body["reported_at"], "reported_at"),
    )
