"""Who wears which camera, as time ranges that never overlap for one camera: an admin's
assignment, an officer's self check-out at a kiosk (officer tag + camera tag, typed by a
USB RFID/NFC reader), and check-in at shift end. Ingest attributes footage by these rows
(overt.ingest.people), so each change is a custody entry in the same transaction.

Two requests for one camera never interleave: each locks the camera's Device row
(SELECT ... FOR UPDATE on PostgreSQL; SQLite's immediate transactions serialise writers)
before it reads the ranges it must not overlap. The database enforces the same rule on
its own (evidence migration 0006: an exclusion constraint on PostgreSQL, triggers on
SQLite), so a writer that skips this module is refused too; the service maps that
refusal to the same Conflict (409)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from overt import errors
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Device, DeviceAssignment, Officer

from .models import FleetDevice, OfficerTag


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def overlaps(
    ranges: list[tuple[datetime, datetime | None]], start: datetime, end: datetime | None
) -> bool:
    """Whether [start, end) meets any of `ranges` (None: open-ended). Pure."""
    for other_start, other_end in ranges:
        if (end is None or other_start < end) and (other_end is None or start < other_end):
            return True
    return False


def _locked_device(serial: str) -> Device:
    device = Device.objects.select_for_update().filter(serial=serial).first()
    if device is None:
        raise errors.NotFound(f"no device {serial!r}")
    if device.revoked_at is not None:
        raise errors.Conflict(f"device {serial} is revoked and may not be assigned")
    return device


def _officer(number: str) -> Officer:
    officer = Officer.objects.filter(number=number).first()
    if officer is None:
        raise errors.NotFound(f"no officer {number!r}")
    return officer


def _log(by: Actor, change: str, row: DeviceAssignment, **more: object) -> None:
    record(
        "metadata-change",
        by,
        Subject("", {"device": row.device.serial, "officer": row.officer.number}),
        details={
            "change": change,
            "device": row.device.serial,
            "officer": row.officer.number,
            "from": _iso(row.starts_at),
            "until": _iso(row.ends_at),
            **more,
        },
    )


def assign(
    serial: str,
    number: str,
    *,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    by: Actor,
) -> DeviceAssignment:
    """Officer `number` wears camera `serial` over [starts_at, ends_at) (default from now,
    open-ended). An open assignment that began earlier ends at `starts_at`; any other
    overlap is refused (Conflict), since footage in it would have two wearers."""
    start = _utc(starts_at or timezone.now())
    end = _utc(ends_at) if ends_at else None
    if end is not None and end <= start:
        raise errors.Invalid("an assignment must end after it starts", field="ends_at")
    with transaction.atomic():
        device = _locked_device(serial)
        officer = _officer(number)
        rows = list(DeviceAssignment.objects.select_related("officer").filter(device=device))
        ended: list[DeviceAssignment] = []
        for row in rows:
            if row.ends_at is None and row.starts_at < start:
                ended.append(row)
        others = [(r.starts_at, r.ends_at) for r in rows if r not in ended]
        others += [(r.starts_at, start) for r in ended]
        if overlaps(others, start, end):
            raise errors.Conflict(
                f"device {serial} is already assigned at some time between {_iso(start)} and "
                f"{_iso(end) or 'open end'}; end or change that assignment first"
            )
        for row in ended:
            row.ends_at = start
            row.save(update_fields=["ends_at"])
            row.device = device
            _log(by, "device-assignment-ended", row)
        try:
            with transaction.atomic():
                created = DeviceAssignment.objects.create(
                    device=device, officer=officer, starts_at=start, ends_at=end
                )
        except IntegrityError as exc:  # the database's own no-overlap rule (evidence 0006)
            raise errors.Conflict(
                f"device {serial} is already assigned at some time between {_iso(start)} and "
                f"{_iso(end) or 'open end'} (refused by the database)"
            ) from exc
        _log(by, "device-assigned", created, ended=[r.officer.number for r in ended])
    return created


def end_assignment(serial: str, *, at: datetime | None = None, by: Actor) -> DeviceAssignment:
    """End camera `serial`'s current open assignment at `at` (default now)."""
    when = _utc(at or timezone.now())
    with transaction.atomic():
        device = _locked_device(serial)
        row = (
            DeviceAssignment.objects.select_related("officer")
            .filter(device=device, ends_at__isnull=True)
            .order_by("-starts_at")
            .first()
        )
        if row is None:
            raise errors.Conflict(f"device {serial} is not checked out to anyone")
        if when <= row.starts_at:
            raise errors.Invalid(
                f"the assignment began at {_iso(row.starts_at)}; it cannot end before that",
                field="at",
            )
        row.ends_at = when
        row.save(update_fields=["ends_at"])
        _log(by, "device-assignment-ended", row)
    return row


# --- the kiosk: tags ---------------------------------------------------------------------


def _clean_tag(tag: str, what: str) -> str:
    cleaned = "".join(tag.split())  # readers may add a newline or spaces
    if not cleaned or len(cleaned) > 64:
        raise errors.Invalid(f"scan the {what} tag (1-64 characters)", field=what)
    return cleaned.upper()


def set_device_tag(serial: str, tag: str, *, by: Actor) -> None:
    tag = _clean_tag(tag, "camera")
    with transaction.atomic():
        device = _locked_device(serial)
        if FleetDevice.objects.filter(tag_id=tag).exclude(device=device).exists():
            raise errors.Conflict(f"tag {tag} already belongs to another camera")
        FleetDevice.objects.update_or_create(device=device, defaults={"tag_id": tag})
        record(
            "metadata-change",
            by,
            Subject("", {"device": serial}),
            details={"change": "device-tag-set", "device": serial, "tag": tag},
        )


def set_officer_tag(number: str, tag: str, *, by: Actor) -> None:
    tag = _clean_tag(tag, "officer")
    with transaction.atomic():
        officer = _officer(number)
        if OfficerTag.objects.filter(tag_id=tag).exclude(officer=officer).exists():
            raise errors.Conflict(f"tag {tag} already belongs to another officer")
        OfficerTag.objects.update_or_create(officer=officer, defaults={"tag_id": tag})
        record(
            "metadata-change",
            by,
            Subject("", {"officer": number}),
            details={"change": "officer-tag-set", "officer": number, "tag": tag},
        )


def _device_by_tag(tag: str) -> Device:
    fleet = (
        FleetDevice.objects.select_related("device")
        .filter(tag_id=_clean_tag(tag, "camera"))
        .first()
    )
    if fleet is None:
        raise errors.NotFound("this camera tag is not registered; ask the evidence team")
    return fleet.device


def check_out(officer_tag: str, camera_tag: str, *, by: Actor) -> DeviceAssignment:
    """Self check-out at shift start: the officer's tag, then the camera's."""
    row = (
        OfficerTag.objects.select_related("officer")
        .filter(tag_id=_clean_tag(officer_tag, "officer"))
        .first()
    )
    if row is None:
        raise errors.NotFound("this officer tag is not registered; ask the evidence team")
    officer = row.officer
    device = _device_by_tag(camera_tag)
    with transaction.atomic():
        _locked_device(device.serial)
        holder = (
            DeviceAssignment.objects.select_related("officer")
            .filter(device=device, ends_at__isnull=True)
            .first()
        )
        if holder is not None:
            if holder.officer_id == officer.pk:
                raise errors.Conflict(f"camera {device.serial} is already checked out to you")
            raise errors.Conflict(
                f"camera {device.serial} is checked out to officer {holder.officer.number}; "
                "check it in first"
            )
        worn = (
            DeviceAssignment.objects.filter(officer=officer, ends_at__isnull=True)
            .filter(~Q(device=device))
            .select_related("device")
            .first()
        )
        if worn is not None:
            raise errors.Conflict(
                f"you have camera {worn.device.serial} checked out; check it in first"
            )
        return assign(device.serial, officer.number, by=by)


def check_in(camera_tag: str, *, by: Actor) -> DeviceAssignment:
    """Check-in at shift end: the camera's tag ends its open assignment now."""
    return end_assignment(_device_by_tag(camera_tag).serial, by=by)


def history(serial: str, limit: int = 50) -> list[DeviceAssignment]:
    return list(
        DeviceAssignment.objects.select_related("officer")
        .filter(device__serial=serial)
        .order_by("-starts_at")[:limit]
    )
