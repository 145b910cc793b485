"""People sync: the `Users` and `Devices` objects of a Body Worn System, linked to overt's
officers and devices (created or updated when `OVERT_AXIS_REGISTER_PEOPLE` is on; with it
off, a user or camera overt does not know is 402), and the people a recording names."""

from __future__ import annotations

import re

from overt.conf import get_settings
from overt.errors import Invalid
from overt.evidence.models import Device, Officer

from ..errors import NotRegistered
from ..models import AxisObject
from .protocol import USERS


def check_user(uuid: str, meta: dict[str, str]) -> None:
    if len(uuid) > 100:
        raise Invalid("user object names are at most 100 characters")
    if get_settings().axis_register_people:
        return
    if linked_officer(uuid, meta) is None:
        raise NotRegistered(
            "overt does not register Axis users itself here (OVERT_AXIS_REGISTER_PEOPLE is "
            "off): add the officer first with `overt officer add`, and give the user that "
            "number as its User ID",
        )


def linked_officer(uuid: str, meta: dict[str, str]) -> Officer | None:
    user_id = (meta.get("userid") or "").strip()
    if user_id:
        officer = Officer.objects.filter(number=user_id).first()
        if officer is not None:
            return officer
    obj = AxisObject.objects.filter(container__name=USERS, name=uuid, officer__isnull=False).first()
    return obj.officer if obj else None


def sync_user(uuid: str, meta: dict[str, str]) -> Officer:
    officer = linked_officer(uuid, meta)
    name = (meta.get("name") or "").strip()
    active = (meta.get("active") or "true").strip().lower() != "false"
    if officer is None:
        number = (meta.get("userid") or "").strip()[:32] or "AX-" + re.sub(
            r"[^0-9A-Za-z]", "", uuid
        )[:12]
        officer, _ = Officer.objects.get_or_create(
            number=number, defaults={"name": name or number, "active": active}
        )
    changed = []
    if name and officer.name != name:
        officer.name = name
        changed.append("name")
    if officer.active != active:
        officer.active = active
        changed.append("active")
    if changed:
        officer.save(update_fields=changed)
    return officer


def check_device(serial: str, meta: dict[str, str]) -> None:
    if len(serial) > 64:
        raise Invalid("device serial numbers are at most 64 characters")
    if (
        not get_settings().axis_register_people
        and not Device.objects.filter(serial=serial).exists()
    ):
        raise NotRegistered(
            f"overt does not register Axis cameras itself here (OVERT_AXIS_REGISTER_PEOPLE is "
            f"off): add {serial} first with `overt device add`",
        )


def sync_device(serial: str, meta: dict[str, str]) -> Device:
    model = (meta.get("model") or "").strip()[:100]
    device, created = Device.objects.get_or_create(serial=serial, defaults={"model": model})
    if not created and model and device.model != model:
        device.model = model
        device.save(update_fields=["model"])
    return device


def officer_for_user(user_id: str) -> Officer:
    """The officer a recording's UserID names: the linked user's, else by number; 400."""
    obj = (
        AxisObject.objects.filter(container__name=USERS, name=user_id)
        .select_related("officer")
        .first()
    )
    if obj is not None and obj.officer is not None:
        return obj.officer
    officer = Officer.objects.filter(number=user_id).first()
    if officer is None:
        raise Invalid(f"unknown user {user_id!r}: not registered in Users/")
    return officer


def check_recording_people(name: str, meta: dict[str, str]) -> None:
    """400 unless a recording container's UserID and BWCSerialNumber are known, and its
    name is `<UserID>_<BWCSerialNumber>_<TriggerOnTime>`."""
    user_id = meta.get("userid")
    serial = meta.get("bwcserialnumber")
    if user_id is not None:
        officer_for_user(user_id)
    if serial is not None and not Device.objects.filter(serial=serial).exists():
        raise Invalid(f"unknown device {serial!r}: not registered in Devices/")
    if user_id is not None and serial is not None and not name.startswith(f"{user_id}_{serial}_"):
        raise Invalid(f"container {name!r} is not named <UserID>_<BWCSerialNumber>_<TriggerOnTime>")
