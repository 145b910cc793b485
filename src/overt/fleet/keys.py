"""Capture-signing key standing of each camera, read from the keys it enrolled (issue 13's
DeviceKey rows: Ed25519 public keys, each with the window in which it was the device's
key, retired on re-enrolment or revocation). An upload token alone is not a signing key:
such a camera's footage arrives unsigned."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from overt.evidence.models import Device
from overt.ingest.models import DeviceKey

ACTIVE, RETIRED_ONLY, NONE = "active", "retired-only", "none"


@dataclass(frozen=True)
class Standing:
    status: str  # active | retired-only | none
    key_id: str = ""  # the current key, or the last retired one
    since: datetime | None = None  # the key's valid_from
    until: datetime | None = None  # set when retired
    retired_because: str = ""


def standing_of(keys: list[DeviceKey], now: datetime) -> Standing:
    """The standing given one device's keys (any order) at `now`. Pure."""
    current = [
        k for k in keys if k.valid_from <= now and (k.valid_until is None or k.valid_until > now)
    ]
    if current:
        key = max(current, key=lambda k: k.valid_from)
        return Standing(ACTIVE, key.key_id, key.valid_from, key.valid_until)
    past = [k for k in keys if k.valid_until is not None and k.valid_until <= now]
    if past:
        key = max(past, key=lambda k: k.valid_until or k.valid_from)
        return Standing(
            RETIRED_ONLY, key.key_id, key.valid_from, key.valid_until, key.retired_because
        )
    return Standing(NONE)


def standings(devices: Iterable[Device], now: datetime) -> dict[int, Standing]:
    """Each device's standing, in one query (every key: a fleet list is every device, and
    an IN list of 22,000 ids would be longer than the query itself)."""
    by_device: dict[int, list[DeviceKey]] = {d.pk: [] for d in devices}
    for key in DeviceKey.objects.only(
        "device_id", "key_id", "valid_from", "valid_until", "retired_because"
    ):
        if key.device_id in by_device:
            by_device[key.device_id].append(key)
    return {pk: standing_of(keys, now) for pk, keys in by_device.items()}


def history(device: Device) -> list[DeviceKey]:
    """Every key the device enrolled, newest first, for its page."""
    return list(DeviceKey.objects.filter(device=device).order_by("-valid_from", "-id"))
