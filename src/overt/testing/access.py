"""Test helpers for users with roles, and for signing a test client in.

`sign_in()` is `client.force_login()` plus what a real sign-in leaves in the session:
for a role that needs TOTP, a confirmed TOTP device that django-otp counts as verified.
Tests of the sign-in pages themselves go through the real forms instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.test import Client

from overt.access.identity import needs_totp
from overt.access.matrix import Role
from overt.access.models import UserProfile
from overt.evidence.models import Officer

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def make_user(
    username: str,
    role: Role | str | None = None,
    *,
    officer: Officer | str | None = None,
    team: str = "",
    password: str | None = None,
) -> User:
    user = get_user_model().objects.create_user(username, password=password)
    if role is not None:
        if isinstance(officer, str):
            officer = Officer.objects.get(number=officer)
        # Straight to the row: a fixture, not a role change to put in the custody log
        # (tests of role changes call overt.access.grants.set_role).
        UserProfile.objects.create(user=user, role=Role(role).value, officer=officer, team=team)
    return user


def totp_device(user: User) -> Any:  # a confirmed TOTPDevice (django-otp has no types)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def totp_now(device: Any) -> str:
    """The code an authenticator app would show now for this device."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def sign_in(client: Client, user: User) -> Client:
    from django_otp import DEVICE_ID_SESSION_KEY

    client.force_login(user)
    if needs_totp(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
        session.save()
    return client
