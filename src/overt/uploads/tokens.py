"""Device and dock credentials: random bearer tokens, of which only a SHA-256 is kept.

A token is shown once, when it is made. Making a new token for a device revokes its
earlier ones, so a re-configured dock never leaves a live credential behind.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Device

from .errors import NotSignedIn
from .models import DeviceToken, Upload

TOKEN_PREFIX = "ovt_"  # noqa: S105 (a prefix, not a secret)


class TokenError(Exception):
    pass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(serial: str, *, dock: bool, created_by: str, actor: Actor | None = None) -> str:
    """Make a new token for device SERIAL (revoking its earlier ones); return it.
    `actor`: who asked, when not the user `created_by` (a camera enrolling itself)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        device = Device.objects.filter(serial=serial).first()
        if device is None:
            raise TokenError(f"unknown device {serial!r}: register it with `overt device add`")
        if device.revoked_at is not None:
            raise TokenError(f"device {serial!r} is revoked (`overt device reinstate` it first)")
        revoked = _revoke(device)
        DeviceToken.objects.create(
            device=device,
            token_hash=hash_token(token),
            prefix=token[:12],
            dock=dock,
            created_by=created_by,
        )
        record(
            "permission-change",
            actor or Actor("user", created_by),
            Subject("", {"device": device.serial}),
            details={
                "what": "device upload token issued",
                "device": device.serial,
                "dock": dock,
                "token_prefix": token[:12],
                "revoked_earlier": revoked,
            },
        )
    return token


def revoke_tokens(serial: str, *, revoked_by: str) -> int:
    with transaction.atomic():
        device = Device.objects.filter(serial=serial).first()
        if device is None:
            raise TokenError(f"unknown device {serial!r}")
        revoked = _revoke(device)
        if revoked:
            record(
                "permission-change",
                Actor("user", revoked_by),
                Subject("", {"device": device.serial}),
                details={
                    "what": "device upload tokens revoked",
                    "device": device.serial,
                    "revoked": revoked,
                },
            )
    return revoked


def _revoke(device: Device) -> int:
    return DeviceToken.objects.filter(device=device, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@dataclass(frozen=True)
class Principal:
    """Who is uploading: a device (by token) or a signed-in user (by session)."""

    kind: str  # "device" or "user"
    id: str
    token: DeviceToken | None = None
    dock: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(self.kind, self.id)

    def owns(self, upload: Upload) -> bool:
        # Only its creator: no flag (Django's superuser included) may read, add bytes to
        # or end another's upload, which would write into evidence filed under them.
        return upload.principal_kind == self.kind and upload.principal == self.id


def device_for_token(token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    row = (
        DeviceToken.objects.select_related("device")
        .filter(token_hash=digest, revoked_at__isnull=True, device__revoked_at__isnull=True)
        .first()
    )
    # The lookup is by hash, so timing says nothing about the token; compare anyway.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return Principal("device", row.device.serial, token=row, dock=row.dock)


def device_for_authorization(header: str) -> Principal:
    """The device that an `Authorization: Bearer <device token>` header names: the one
    device-token check of tus, the camera agent's API and the fleet API. Raises
    NotSignedIn (401) saying what was wrong."""
    scheme, _, value = header.strip().partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not token or len(token.split()) != 1:
        raise NotSignedIn("send Authorization: Bearer <device token>")
    principal = device_for_token(token)
    if principal is None:
        raise NotSignedIn("unknown or revoked device token")
    return principal
