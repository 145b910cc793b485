"""Who wore the camera: one rule for every way footage arrives (command line, dock
folder, tus, Axis), so a file is attributed the same whichever door it came through.

The officer is, in order: the one named explicitly (a command-line option, tus
metadata), the sidecar's, or whoever the camera was assigned to (`overt device assign`)
at the clip's capture time. With none of these the file is still kept (nothing off a
camera is dropped), filed under the reserved officer UNATTRIBUTED: the fleet's
"unattributed" worklist, where an evidence manager names the wearer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db.models import Q

from overt import errors
from overt.evidence.models import Device, DeviceAssignment, Officer


class IngestError(errors.Invalid):
    """Ingest refused; nothing was stored. The message says why."""


class UnknownOfficer(IngestError):
    pass


class UnknownDevice(IngestError):
    pass


class NoDevice(IngestError):
    pass


class NoOfficer(IngestError):
    """No officer was named and the device was assigned to no one at capture time
    Ingest no longer refuses such a file (it is filed as unattributed); the class stays for
    the doors that name it."""


UNATTRIBUTED = "UNATTRIBUTED"  # the officer number of footage from no one's camera


def unattributed_officer() -> Officer:
    """The reserved officer footage of an unassigned camera is filed under until someone
    names the wearer (overt.fleet.unattributed); never a person, never active."""
    officer, _ = Officer.objects.get_or_create(
        number=UNATTRIBUTED,
        defaults={"name": "Unattributed: camera assigned to no one", "active": False},
    )
    return officer


def resolve_people(
    officer_number: str | None,
    device_serial: str | None,
    capture_time: Callable[[], datetime],
) -> tuple[Officer, Device]:
    """The registered officer and device for a file, or IngestError before anything is
    stored. `capture_time` is called only when the device's assignment must decide.
    (A sidecar's officer and device are merged in first: overt.ingest.request.)"""
    if not device_serial:
        raise NoDevice("no device given: pass --device or put 'device' in the sidecar")
    device = Device.objects.filter(serial=device_serial).first()
    if device is None:
        raise UnknownDevice(
            f"unknown device {device_serial!r}: register with `overt device add` first"
        )
    if not officer_number:
        officer = wearer(device, capture_time())
        return officer or unattributed_officer(), device
    officer = Officer.objects.filter(number=officer_number).first()
    if officer is None:
        raise UnknownOfficer(
            f"unknown officer {officer_number!r}: register with `overt officer add` first"
        )
    return officer, device


def wearer(device: Device, at: datetime) -> Officer | None:
    """The officer the device was assigned to at `at`, if any."""
    assignment = (
        DeviceAssignment.objects.select_related("officer")
        .filter(device=device, starts_at__lte=at)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .order_by("-starts_at")
        .first()
    )
    return assignment.officer if assignment else None

