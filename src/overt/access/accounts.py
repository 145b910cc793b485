"""Accounts: adding a user, disabling one, and their TOTP second factor. Each change is a
`permission-change` custody entry written in the same transaction as the change, whoever
asks (the CLI, the sign-in pages)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from overt import errors
from overt.custody.services import Actor, Client, Subject, record
from overt.evidence.models import Officer

from .grants import set_role


def _subject(username: str) -> Subject:
    return Subject("", {"user": username})


def add_user(
    username: str,
    *,
    role: str,
    by: Actor,
    email: str = "",
    password: str | None = None,
    officer: Officer | None = None,
    team: str = "",
) -> Any:
    """Create a user with a role (set_role logs it). Without a password the user signs in
    by SSO only. Conflict if the username is taken."""
    users = get_user_model()
    with transaction.atomic():
        if users.objects.filter(username=username).exists():
            raise errors.Conflict(f"user {username!r} exists already")
        created = users.objects.create_user(username, email=email, password=password)
        set_role(created, role, by=by, officer=officer, team=team)
    return created


def reset_totp(user: Any, *, by: Actor) -> int:
    """Remove the user's TOTP devices: they set up a new one at their next sign-in.
    Returns how many were removed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    removed: int
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        record(
            "permission-change",
            by,
            _subject(user.get_username()),
            details={"change": "totp-reset", "devices": removed},
        )
    return removed


def disable_user(user: Any, *, by: Actor) -> None:
    """Stop the user signing in (their API tokens stop too). Nothing is deleted."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        record(
            "permission-change", by, _subject(user.get_username()), details={"change": "disabled"}
        )


def totp_to_enrol(user: Any, device_id: int | None) -> Any:
    """The unconfirmed TOTP device being set up (`device_id`, kept by the caller), or a
    new one. Nothing is logged until it is confirmed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def confirm_totp(user: Any, device: Any, *, client: Client | None = None) -> None:
    """The user proved they hold the device's key: it becomes their second factor."""
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(
            "permission-change",
            Actor("user", user.get_username()),
            _subject(user.get_username()),
            client=client,
            details={"change": "totp-enrolled"},
        )
