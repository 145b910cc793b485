"""A camera's health from what it last reported: pure rules, no database, no clock.

ok: nothing to do. attention: someone should look (not docked lately, battery low, card
nearly full, clock drifting, behind on its config, an error, no capture key). lost: it
has not been in touch for so long that it should be found. Each reason is a sentence an
evidence manager can act on; the thresholds are settings (OVERT_FLEET_*).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

OK, ATTENTION, LOST = "ok", "attention", "lost"
STATES = (OK, ATTENTION, LOST)


@dataclass(frozen=True)
class Thresholds:
    dock_overdue: timedelta = timedelta(hours=24)
    lost_after: timedelta = timedelta(days=7)
    battery_low_percent: float = 20.0
    free_bytes_low: int = 4 << 30
    clock_offset_max_s: float = 2.0
    pending_bytes_max: int = 1 << 30


@dataclass(frozen=True)
class Facts:
    """What is known of one camera, as of `now`."""

    now: datetime
    registered_at: datetime
    last_dock_at: datetime | None = None
    battery_percent: float | None = None
    charging: bool | None = None
    free_bytes: int | None = None
    pending_bytes: int = 0
    clock_offset_s: float | None = None
    last_error: str = ""
    config_expected: int | None = None
    config_applied: int | None = None
    revoked: bool = False
    key_status: str = "unknown"  # "active", "none", "retired-only", "unknown"


@dataclass(frozen=True)
class Health:
    state: str
    reasons: tuple[str, ...] = field(default=())


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.0f} days" if hours >= 48 else f"{hours:.0f} h"


def assess(facts: Facts, limits: Thresholds) -> Health:
    """The health state and its reasons, worst state first decided."""
    if facts.revoked:
        return Health(OK, ("revoked: may not upload; kept for its footage's history",))
    reasons: list[str] = []
    seen = facts.last_dock_at
    since = facts.now - (seen or facts.registered_at)
    if since > limits.lost_after:
        what = "no contact" if seen else "never docked since registration"
        return Health(
            LOST, (f"{what} for {_hours(since)} (lost after {_hours(limits.lost_after)})",)
        )
    if seen is None:
        reasons.append("never docked")
    elif since > limits.dock_overdue:
        reasons.append(f"not docked for {_hours(since)}")
    if facts.battery_percent is not None and facts.battery_percent < limits.battery_low_percent:
        charging = " (charging)" if facts.charging else ""
        reasons.append(f"battery {facts.battery_percent:.0f}%{charging}")
    if facts.free_bytes is not None and facts.free_bytes < limits.free_bytes_low:
        reasons.append(f"storage nearly full: {facts.free_bytes / 1e9:.1f} GB free")
    if facts.pending_bytes > limits.pending_bytes_max:
        reasons.append(f"{facts.pending_bytes / 1e9:.1f} GB not yet offloaded")
    offset = facts.clock_offset_s
    if offset is not None and abs(offset) > limits.clock_offset_max_s:
        reasons.append(f"clock {offset:+.1f} s from the server's")
    if facts.config_expected is not None and facts.config_applied != facts.config_expected:
        applied = "none" if facts.config_applied is None else f"v{facts.config_applied}"
        reasons.append(f"config behind: applied {applied}, current v{facts.config_expected}")
    if facts.last_error:
        reasons.append(f"reported error: {facts.last_error[:200]}")
    if facts.key_status in ("none", "retired-only"):
        reasons.append("no active capture-signing key: footage will be unsigned")
    return Health(ATTENTION if reasons else OK, tuple(reasons))
