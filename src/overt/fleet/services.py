"""The fleet service: what cameras report at the dock, the config they fetch, and the
fleet list with each camera's health. The web pages, the API and the CLI all call this.

A status report updates the camera's one FleetDevice row (telemetry, not evidence: it is
not a custody entry); a camera that reports applying a new config version is, since it
changes how the camera records."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone

from overt import errors
from overt.conf import get_settings
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Device, DeviceAssignment
from overt.uploads.models import Upload

from . import health, keys, profiles
from .models import FleetDevice
from .reports import StatusReport


def thresholds() -> health.Thresholds:
    s = get_settings()
    return health.Thresholds(
        dock_overdue=timedelta(hours=s.fleet_dock_overdue_hours),
        lost_after=timedelta(hours=s.fleet_lost_after_hours),
        battery_low_percent=s.fleet_battery_low_percent,
        free_bytes_low=s.fleet_free_bytes_low,
        clock_offset_max_s=s.fleet_clock_offset_max_s,
        pending_bytes_max=s.fleet_pending_bytes_max,
    )


def _device(serial: str) -> Device:
    device = Device.objects.filter(serial=serial).first()
    if device is None:
        raise errors.NotFound(f"no device {serial!r}")
    return device


def report_status(serial: str, report: StatusReport) -> datetime:
    """Keep camera `serial`'s report (the dock's time is the server's); return that time."""
    now = timezone.now()
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(serial=serial).first()
        if device is None:
            raise errors.NotFound(f"no device {serial!r}")
        fleet, _ = FleetDevice.objects.get_or_create(device=device)
        applied_before = fleet.config_version
        for key in (
            "agent_version",
            "battery_percent",
            "charging",
            "free_bytes",
            "pending_segments",
            "pending_bytes",
            "clock_offset_s",
            "config_version",
            "reported_at",
        ):
            setattr(fleet, key, getattr(report, key))
        fleet.last_error = report.last_error or ""
        fleet.last_dock_at = now
        fleet.save()
        if report.config_version is not None and report.config_version != applied_before:
            record(
                "metadata-change",
                Actor("device", serial),
                Subject("", {"device": serial}),
                details={
                    "change": "device-config-applied",
                    "device": serial,
                    "config_version": report.config_version,
                    "previous": applied_before,
                },
            )
    return now


def config_for(serial: str) -> profiles.Config:
    """The settings camera `serial` should run now."""
    device = _device(serial)
    fleet, _ = FleetDevice.objects.select_related("profile").get_or_create(device=device)
    FleetDevice.objects.filter(pk=fleet.pk).update(last_config_at=timezone.now())
    return profiles.config_of(profiles.Resolver().profile_for(device, fleet))


# --- the fleet list ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    serial: str
    model: str
    firmware: str
    agent_version: str
    officer: str  # number of the officer it is assigned to now, or ""
    officer_name: str
    last_dock_at: datetime | None
    last_offload_at: datetime | None
    pending_segments: int
    pending_bytes: int
    battery_percent: float | None
    charging: bool | None
    free_bytes: int | None
    clock_offset_s: float | None
    key_status: str  # active | retired-only | none (overt.fleet.keys)
    key_id: str
    key_since: datetime | None
    key_until: datetime | None
    profile: str
    config_expected: int
    config_applied: int | None
    tag_id: str
    health: health.Health

    @property
    def lagging(self) -> bool:
        return self.config_applied != self.config_expected


@dataclass(frozen=True)
class Filters:
    health: str = ""  # ok | attention | lost
    model: str = ""
    assigned: str = ""  # yes | no
    lagging: bool = False
    q: str = ""  # serial, officer number or name contains


def rows(filters: Filters | None = None, *, now: datetime | None = None) -> list[Row]:
    """Every registered camera with its health, filtered."""
    filters = filters or Filters()
    now = now or timezone.now()
    current = (
        DeviceAssignment.objects.filter(device=OuterRef("pk"), starts_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("-starts_at")
    )
    last_upload = (
        Upload.objects.filter(device_serial=OuterRef("serial"), finished_at__isnull=False)
        .values("device_serial")
        .annotate(m=Max("finished_at"))
        .values("m")
    )
    devices = list(
        Device.objects.select_related("fleet", "fleet__profile").annotate(
            officer_number=Subquery(current.values("officer__number")[:1]),
            officer_name=Subquery(current.values("officer__name")[:1]),
            last_offload=Subquery(last_upload[:1]),
        )
    )
    resolver = profiles.Resolver()
    key_standing = keys.standings(devices, now)
    limits = thresholds()
    out = []
    for device in devices:
        fleet: FleetDevice | None = getattr(device, "fleet", None)
        config = profiles.config_of(resolver.profile_for(device, fleet))
        facts = health.Facts(
            now=now,
            registered_at=device.created_at,
            last_dock_at=fleet.last_dock_at if fleet else None,
            battery_percent=fleet.battery_percent if fleet else None,
            charging=fleet.charging if fleet else None,
            free_bytes=fleet.free_bytes if fleet else None,
            pending_bytes=fleet.pending_bytes if fleet else 0,
            clock_offset_s=fleet.clock_offset_s if fleet else None,
            last_error=fleet.last_error if fleet else "",
            config_expected=config.version,
            config_applied=fleet.config_version if fleet else None,
            revoked=device.revoked_at is not None,
            key_status=key_standing[device.pk].status,
        )
        out.append(
            Row(
                serial=device.serial,
                model=device.model,
                firmware=device.firmware,
                agent_version=fleet.agent_version if fleet else "",
                officer=device.officer_number or "",
                officer_name=device.officer_name or "",
                last_dock_at=facts.last_dock_at,
                last_offload_at=device.last_offload,
                pending_segments=fleet.pending_segments if fleet else 0,
                pending_bytes=facts.pending_bytes,
                battery_percent=facts.battery_percent,
                charging=facts.charging,
                free_bytes=facts.free_bytes,
                clock_offset_s=facts.clock_offset_s,
                key_status=facts.key_status,
                key_id=key_standing[device.pk].key_id,
                key_since=key_standing[device.pk].since,
                key_until=key_standing[device.pk].until,
                profile=config.profile,
                config_expected=config.version,
                config_applied=facts.config_applied,
                tag_id=(fleet.tag_id or "") if fleet else "",
                health=health.assess(facts, limits),
            )
        )
    return [row for row in out if _matches(row, filters)]


def _matches(row: Row, f: Filters) -> bool:
    if f.health and row.health.state != f.health:
        return False
    if f.model and row.model != f.model:
        return False
    if f.assigned and (f.assigned == "yes") != bool(row.officer):
        return False
    if f.lagging and not row.lagging:
        return False
    needle = f.q.strip().lower()
    return not needle or any(
        needle in value.lower() for value in (row.serial, row.officer, row.officer_name)
    )


CSV_COLUMNS = (
    "serial",
    "model",
    "firmware",
    "agent_version",
    "officer",
    "officer_name",
    "health",
    "reasons",
    "last_dock_at",
    "last_offload_at",
    "pending_segments",
    "pending_bytes",
    "battery_percent",
    "charging",
    "free_bytes",
    "clock_offset_s",
    "key_status",
    "key_id",
    "key_since",
    "key_until",
    "profile",
    "config_expected",
    "config_applied",
    "tag_id",
)


def as_dict(row: Row) -> dict[str, object]:
    values: dict[str, object] = {}
    for column in CSV_COLUMNS:
        if column == "health":
            values[column] = row.health.state
        elif column == "reasons":
            values[column] = list(row.health.reasons)
        else:
            value = getattr(row, column)
            values[column] = value.isoformat() if isinstance(value, datetime) else value
    return values


def to_csv(selected: list[Row]) -> str:
    """The rows as CSV; a cell that a spreadsheet would run as a formula is quoted off."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in selected:
        values = as_dict(row)
        values["reasons"] = "; ".join(row.health.reasons)
        writer.writerow([_cell(values[c]) for c in CSV_COLUMNS])
    return buffer.getvalue()


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return (
        "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _numeric(text) else text
    )


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
