"""Who wears which camera: registering officers and devices and assigning a camera to an
officer. Footage is attributed by these rows, so each change is a custody entry
(`metadata-change`) written in the same transaction as the row."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from overt import errors
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Device, DeviceAssignment, Officer


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _as_utc(value: datetime) -> datetime:
    """UTC: a naive time is taken as UTC already; an aware one is converted."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def register_officer(number: str, name: str, *, team: str = "", by: Actor) -> Officer:
    """Add an officer by warrant or collar number; Conflict if the number is taken."""
    with transaction.atomic():
        officer, created = Officer.objects.get_or_create(
            number=number, defaults={"name": name, "team": team}
        )
        if not created:
            raise errors.Conflict(f"officer {number} already exists ({officer.name})")
        record(
            "metadata-change",
            by,
            Subject("", {"officer": number}),
            details={"change": "officer-added", "number": number, "name": name, "team": team},
        )
    return officer


def register_device(serial: str, model: str, *, firmware: str = "", by: Actor) -> Device:
    """Add a camera or dock by serial number; Conflict if the serial is taken."""
    with transaction.atomic():
        device, created = Device.objects.get_or_create(
            serial=serial, defaults={"model": model, "firmware": firmware}
        )
        if not created:
            raise errors.Conflict(f"device {serial} already exists ({device.model})")
        record(
            "metadata-change",
            by,
            Subject("", {"device": serial}),
            details={
                "change": "device-added",
                "serial": serial,
                "model": model,
                "firmware": firmware,
            },
        )
    return device


def assign_device(
    serial: str, number: str, *, starts_at: datetime | None = None, by: Actor
) -> DeviceAssignment:
    """Officer `number` wears camera `serial` from `starts_at` (default now) on; the
    camera's open assignment, if any, ends then. A naive `starts_at` is UTC (the CLI's
    --from says so); an aware one is converted to UTC, never relabelled. A start at or
    before the open assignment's start is Invalid: it would end that assignment before
    it began, and ingest attributes footage to officers by these rows."""
    starts_at = _as_utc(starts_at or datetime.now(UTC))
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(serial=serial).first()
        if device is None:
            raise errors.NotFound(f"no device {serial!r}; register it with `overt device add`")
        officer = Officer.objects.filter(number=number).first()
        if officer is None:
            raise errors.NotFound(f"no officer {number!r}; register them with `overt officer add`")
        open_rows = DeviceAssignment.objects.filter(device=device, ends_at__isnull=True)
        current = list(open_rows.select_related("officer"))
        for row in current:
            if starts_at <= row.starts_at:
                raise errors.Invalid(
                    f"device {serial} is assigned to officer {row.officer.number} from "
                    f"{_iso(row.starts_at)}; a new assignment must start after that, "
                    f"not at {_iso(starts_at)}",
                    field="starts_at",
                )
        ended = [row.officer.number for row in current]
        open_rows.update(ends_at=starts_at)
        assignment = DeviceAssignment.objects.create(
            device=device, officer=officer, starts_at=starts_at
        )
        record(
            "metadata-change",
            by,
            Subject("", {"device": serial, "officer": number}),
            details={
                "change": "device-assigned",
                "device": serial,
                "officer": number,
                "from": _iso(starts_at),
                "ended": ended,  # officers whose open assignment of this camera ended
            },
        )
    return assignment
