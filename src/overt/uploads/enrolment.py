"""Enrolling a camera (issue 13): a one-time code made on the server, typed into the
camera, exchanged once for the device's upload token while the camera hands over the
public half of the key it signs its footage with.

A code lives 15 minutes and is kept only as a keyed hash; a newer code voids the older.
Re-enrolment retires the device's key (kept, with its validity window, to verify what it
signed before) and its tokens. Refused attempts are counted per client address and per
serial, so codes cannot be guessed at speed. A revoked device enrols no more, and its
tokens, keys and open codes end with the revocation. Every step is a custody entry,
never with the code or the token in it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from overt.custody.services import Actor, Client, Subject, record
from overt.errors import DomainError, Gone, Invalid, NotFound, Refused
from overt.evidence.models import Device
from overt.ingest.models import DeviceKey, EnrolmentAttempt, EnrolmentCode

from . import unseal
from .tokens import issue_token, revoke_tokens

CODE_LIFETIME = timedelta(minutes=15)
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U
CODE_GROUPS = 3  # XXXX-XXXX-XXXX: 60 random bits
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_REFUSALS_PER_ADDRESS = 10
MAX_REFUSALS_PER_SERIAL = 20
TUS_URL = "/files/"


class TooManyAttempts(DomainError):
    status, title = 429, "Too Many Requests"
    retry_after = int(ATTEMPT_WINDOW.total_seconds())


@dataclass(frozen=True, slots=True)
class IssuedCode:
    serial: str
    code: str
    expires_at: datetime

    def to_json(self) -> dict[str, str]:
        return {"serial": self.serial, "code": self.code, "expires_at": rfc3339(self.expires_at)}


@dataclass(frozen=True, slots=True)
class Enrolled:
    serial: str
    device_token: str
    key_id: str
    server_time: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "device_token": self.device_token,
            "tus_url": TUS_URL,
            "server_time": rfc3339(self.server_time),
            "key_id": self.key_id,
            # The server's public key for segments encrypted at rest (unseal.py).
            "encryption_key": unseal.public_key_json(),
        }


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def normalise_code(code: str) -> str:
    """The code as typed, without spaces or dashes, in capitals; O read as 0, I and L as 1."""
    text = "".join(code.split()).replace("-", "").upper()
    return text.translate(str.maketrans("OIL", "011"))


def code_hash(code: str) -> str:
    key = settings.SECRET_KEY.encode("utf-8")
    return hmac.new(key, normalise_code(code).encode("utf-8"), hashlib.sha256).hexdigest()


def issue_code(serial: str, *, by: Actor) -> IssuedCode:
    """A new one-time code for device SERIAL (voiding its earlier open codes)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4 * CODE_GROUPS))
    code = "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    now = timezone.now()
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(serial=serial).first()
        if device is None:
            raise NotFound(f"unknown device {serial!r}: add it first with `overt device add`")
        if device.revoked_at is not None:
            raise Refused(f"device {serial} is revoked; `overt device reinstate` it first")
        voided = _open_codes(device, now).update(voided_at=now)
        row = EnrolmentCode.objects.create(
            device=device,
            code_hash=code_hash(code),
            created_by=by.id,
            expires_at=now + CODE_LIFETIME,
        )
        record(
            "device-enrolment",
            by,
            Subject("", {"device": serial}),
            details={
                "what": "enrolment code issued",
                "device": serial,
                "code": row.pk,  # the row, never the code
                "expires_at": rfc3339(row.expires_at),
                "voided_earlier": voided,
            },
        )
    return IssuedCode(serial, code, row.expires_at)


def enrol(body: Any, client: Client) -> Enrolled:
    """Exchange a code for the device's upload token, keeping its public key."""
    serial, code, public_key, agent_version = _read_body(body)
    _check_rate(client.address, serial)
    try:
        return _enrol(serial, code, public_key, agent_version, client)
    except (Invalid, Gone, Refused) as exc:
        with transaction.atomic():
            EnrolmentAttempt.objects.create(
                address=client.address[:64], serial=serial[:64], at=timezone.now()
            )
            record(
                "device-enrolment",
                Actor("device", serial[:64] or "?"),
                Subject("", {"device": serial[:64]}),
                client=client,
                details={"what": "enrolment refused", "device": serial[:64], "why": str(exc)},
            )
        raise


def _enrol(
    serial: str, code: str, public_key: bytes, agent_version: str, client: Client
) -> Enrolled:
    now = timezone.now()
    key_id = hashlib.sha256(public_key).hexdigest()[:16]
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(serial=serial).first()
        if device is not None and device.revoked_at is not None:
            raise Refused(f"device {serial} is revoked: it may not enrol")
        row = None
        if device is not None:
            row = (
                EnrolmentCode.objects.select_for_update()
                .filter(device=device, code_hash=code_hash(code))
                .first()
            )
        if device is None or row is None:
            raise Invalid("wrong serial or enrolment code", field="code")
        if row.used_at is not None:
            raise Gone("this enrolment code has been used already; ask for a new one")
        if row.voided_at is not None:
            raise Gone("this enrolment code was replaced by a newer one; use that")
        if row.expires_at <= now:
            raise Gone(f"this enrolment code expired at {rfc3339(row.expires_at)}; ask again")
        key, retired = _install_key(device, key_id, public_key, agent_version, now)
        row.used_at, row.key = now, key
        row.save(update_fields=["used_at", "key"])
        actor = Actor("device", serial)
        token = issue_token(serial, dock=False, created_by=serial, actor=actor)
        record(
            "device-enrolment",
            actor,
            Subject("", {"device": serial}),
            client=client,
            details={
                "what": "enrolled",
                "device": serial,
                "code": row.pk,
                "key_id": key_id,
                "public_key": public_key.hex(),
                "agent_version": agent_version,
                "retired_keys": retired,
            },
        )
    return Enrolled(serial, token, key_id, now)


def _install_key(
    device: Device, key_id: str, public_key: bytes, agent_version: str, now: datetime
) -> tuple[DeviceKey, list[str]]:
    """The device's current key from now; the one before retired (kept, with its window)."""
    existing = DeviceKey.objects.filter(device=device, key_id=key_id).first()
    if existing is not None and existing.valid_until is not None:
        raise Invalid("this key was retired; make a new key pair to enrol", field="public_key")
    current = DeviceKey.objects.filter(device=device, valid_until__isnull=True).exclude(
        key_id=key_id
    )
    retired = list(current.values_list("key_id", flat=True))
    current.update(valid_until=now, retired_because="re-enrolled")
    if existing is not None:
        return existing, retired
    key = DeviceKey.objects.create(
        device=device,
        key_id=key_id,
        public_key=public_key.hex(),
        valid_from=now,
        agent_version=agent_version,
    )
    return key, retired


def revoke_device(serial: str, *, by: Actor) -> dict[str, int]:
    """Revoke a device: it may not enrol, upload or sign from now on."""
    now = timezone.now()
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(serial=serial).first()
        if device is None:
            raise NotFound(f"unknown device {serial!r}")
        tokens = revoke_tokens(serial, revoked_by=by.id)
        keys = DeviceKey.objects.filter(device=device, valid_until__isnull=True).update(
            valid_until=now, retired_because="device revoked"
        )
        codes = _open_codes(device, now).update(voided_at=now)
        already = device.revoked_at is not None
        if not already:
            device.revoked_at = now
            device.save(update_fields=["revoked_at"])
        counts = {"tokens": tokens, "keys": keys, "codes": codes}
        if not already or any(counts.values()):
            record(
                "device-revocation",
                by,
                Subject("", {"device": serial}),
                details={"what": "device revoked", "device": serial, **counts},
            )
    return counts


def reinstate_device(serial: str, *, by: Actor) -> bool:
    """Lift a revocation; the device must enrol again (with a new code) to upload."""
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(serial=serial).first()
        if device is None:
            raise NotFound(f"unknown device {serial!r}")
        if device.revoked_at is None:
            return False
        device.revoked_at = None
        device.save(update_fields=["revoked_at"])
        record(
            "device-revocation",
            by,
            Subject("", {"device": serial}),
            details={"what": "device reinstated", "device": serial},
        )
    return True


def peers_for(device: Device) -> list[dict[str, str]]:
    """The current keys of the force's other enrolled, unrevoked devices (for peer start)."""
    keys = (
        DeviceKey.objects.filter(valid_until__isnull=True, device__revoked_at__isnull=True)
        .exclude(device=device)
        .select_related("device")
        .order_by("device__serial")
    )
    return [
        {
            "serial": k.device.serial,
            "key_id": k.key_id,
            "public_key": base64.b64encode(bytes.fromhex(k.public_key)).decode("ascii"),
        }
        for k in keys
    ]


# --- helpers ----------------------------------------------------------------------------


def _open_codes(device: Device, now: datetime) -> Any:
    return EnrolmentCode.objects.filter(
        device=device, used_at__isnull=True, voided_at__isnull=True, expires_at__gt=now
    )


def _read_body(body: Any) -> tuple[str, str, bytes, str]:
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    unknown = set(body) - {"serial", "code", "public_key", "agent_version"}
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(sorted(unknown))}")
    values = []
    for name, limit in (("serial", 64), ("code", 64), ("public_key", 100), ("agent_version", 64)):
        value = body.get(name, "" if name == "agent_version" else None)
        if not isinstance(value, str) or (not value.strip() and name != "agent_version"):
            raise Invalid(f"{name} is required, as a string", field=name)
        if len(value) > limit:
            raise Invalid(f"{name} is longer than {limit} characters", field=name)
        values.append(value.strip())
    serial, code, encoded, agent_version = values
    try:
        public_key = base64.b64decode(encoded, validate=True)
        if len(public_key) != 32:
            raise ValueError("not 32 bytes")
        Ed25519PublicKey.from_public_bytes(public_key)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(
            "public_key must be the base64 of a raw 32-byte Ed25519 public key",
            field="public_key",
        ) from exc
    return serial, code, public_key, agent_version


def _check_rate(address: str, serial: str) -> None:
    since = timezone.now() - ATTEMPT_WINDOW
    recent = EnrolmentAttempt.objects.filter(at__gte=since)
    if (
        recent.filter(address=address[:64]).count() >= MAX_REFUSALS_PER_ADDRESS
        or recent.filter(serial=serial[:64]).count() >= MAX_REFUSALS_PER_SERIAL
    ):
        raise TooManyAttempts(
            "too many refused enrolment attempts; wait 15 minutes, then try again"
        )
