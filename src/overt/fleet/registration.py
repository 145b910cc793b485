"""Registering cameras from the fleet page or API: the access registry's write (with its
custody entry) and, when asked, the camera's device token, which is shown once."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from overt import errors
from overt.access.registry import register_device
from overt.custody.services import Actor
from overt.uploads.enrolment import issue_code
from overt.uploads.tokens import TokenError, issue_token


def add_device(
    serial: str,
    model: str,
    *,
    firmware: str = "",
    with_token: bool = False,
    enrol: bool = False,
    by: Actor,
) -> dict[str, Any]:
    """Register camera `serial`; Conflict if it exists. With `enrol`, a one-time enrolment
    code too (the camera then enrols with a key of its own: `POST /api/devices/enrol/`);
    else, with `with_token`, its device token (a camera that signs nothing)."""
    serial = serial.strip()
    if not serial or any(c.isspace() for c in serial):
        raise errors.Invalid("a serial number has no spaces", field="serial")
    with transaction.atomic():
        device = register_device(serial, model, firmware=firmware, by=by)
        out: dict[str, Any] = {
            "serial": device.serial,
            "model": device.model,
            "firmware": device.firmware,
        }
        if enrol:
            out.update(issue_code(serial, by=by).to_json())
        elif with_token:
            try:
                out["device_token"] = issue_token(serial, dock=False, created_by=by.id)
            except TokenError as exc:  # the device was made just above; cannot happen
                raise errors.Invalid(str(exc)) from exc
    return out
