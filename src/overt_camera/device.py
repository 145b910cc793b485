"""Facts about the device for the server's fleet view: battery, free storage, clock."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .home import Home, write_atomic

POWER_SUPPLY = Path("/sys/class/power_supply")


@dataclass(frozen=True)
class Battery:
    percent: float | None
    charging: bool | None


def battery(root: Path = POWER_SUPPLY) -> Battery:
    """The first battery under /sys/class/power_supply; unknowns where there is none."""
    try:
        supplies = sorted(root.iterdir())
    except OSError:
        return Battery(None, None)
    for supply in supplies:
        try:
            if (supply / "type").read_text().strip() != "Battery":
                continue
            percent = float((supply / "capacity").read_text().strip())
            state = (supply / "status").read_text().strip()
        except (OSError, ValueError):
            continue
        return Battery(percent, state in ("Charging", "Full"))
    return Battery(None, None)


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def clock_path(home: Home) -> Path:
    return home.root / "clock.json"


def save_clock_offset(home: Home, offset: float) -> None:
    record = {"clock_offset_s": offset, "measured_at": time.time()}
    write_atomic(clock_path(home), json.dumps(record).encode("utf-8"))


def clock_offset(home: Home) -> float | None:
    """Device clock minus server clock at the last contact (None before any)."""
    try:
        value = json.loads(clock_path(home).read_text("utf-8"))["clock_offset_s"]
    except (OSError, ValueError, KeyError):
        return None
    return float(value) if isinstance(value, int | float) else None
