"""Disk pressure: warn long before ingest is refused, and never delete evidence for space.

Three levels, from the store's free space:

- ``ok``: above OVERT_DISK_WARNING_FREE_BYTES.
- ``warning`` (1): below it. /healthz says so (still 200: nothing is refused yet) and
  /metrics sets ``overt_disk_pressure`` to 1, for an alert to page someone.
- ``critical`` (2): at or below OVERT_MIN_FREE_BYTES. Ingest is refused (507 on HTTP,
  exit status 1 on the command line) until space is added. Nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from overt.conf import get_settings
from overt.evidence.store import EvidenceStore, get_store

LEVELS = {"ok": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class Pressure:
    level: str
    free_bytes: int | None
    warning_below: int
    refused_below: int

    @property
    def value(self) -> int:
        return LEVELS[self.level]

    def message(self) -> str:
        if self.level == "ok":
            return ""
        gib = (self.free_bytes or 0) / (1 << 30)
        if self.level == "warning":
            return (
                f"disk pressure: {gib:.1f} GiB free in the evidence store, below the warning "
                f"threshold of {self.warning_below / (1 << 30):.1f} GiB; add space before "
                f"ingest is refused at {self.refused_below / (1 << 30):.1f} GiB"
            )
        return (
            f"disk full: {gib:.1f} GiB free in the evidence store, at or below the reserve of "
            f"{self.refused_below / (1 << 30):.1f} GiB; new ingest is refused (evidence is "
            "never deleted for space)"
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.level != "critical",
            "level": self.level,
            "free_bytes": self.free_bytes,
            "warning_below_bytes": self.warning_below,
            "refused_below_bytes": self.refused_below,
        }
        if self.level != "ok":
            out["warning" if self.level == "warning" else "error"] = self.message()
        return out


def disk_pressure(store: EvidenceStore | None = None) -> Pressure:
    settings = get_settings()
    free = (store or get_store()).free_bytes()
    warn, refuse = settings.disk_warning_free_bytes, settings.min_free_bytes
    if free is None:  # a backend without a limit (S3)
        level = "ok"
    elif free <= refuse:
        level = "critical"
    elif free < warn:
        level = "warning"
    else:
        level = "ok"
    return Pressure(level, free, warn, refuse)


def healthz_check() -> dict[str, Any]:
    try:
        return disk_pressure().to_json()
    except Exception as exc:  # a health check reports, never raises
        return {"ok": False, "error": f"cannot read the store's free space: {exc}"}


class DiskPressureCollector:
    """overt_disk_pressure (0 ok, 1 warning, 2 critical) and the thresholds, for alerts."""

    def collect(self) -> Iterator[Metric]:
        try:
            pressure = disk_pressure()
        except Exception:
            return
        yield GaugeMetricFamily(
            "overt_disk_pressure",
            "Evidence store disk pressure: 0 ok, 1 warning (add space), 2 ingest refused.",
            value=pressure.value,
        )
        if pressure.free_bytes is not None:
            yield GaugeMetricFamily(
                "overt_store_free_bytes",
                "Free bytes in the evidence store.",
                value=pressure.free_bytes,
            )
        yield GaugeMetricFamily(
            "overt_disk_warning_free_bytes",
            "Free bytes below which disk pressure is a warning.",
            value=pressure.warning_below,
        )
        yield GaugeMetricFamily(
            "overt_min_free_bytes",
            "Free bytes at or below which ingest is refused.",
            value=pressure.refused_below,
        )
