"""Signing in: lockout and rate limits, the second factor, and the custody entries.

Every way in (password, SSO) ends in `first_factor_passed()`: a role that needs TOTP goes
on to the second-factor step; the rest are signed in. Only `complete_login()` calls
Django's `login()`, which gives the browser a new session key (no session fixation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from overt.conf import get_settings
from overt.custody.services import Actor, Client, Subject, record
from overt.web.client_address import client_of

from .identity import needs_totp
from .models import Alert, Lockout, LoginFailure

PENDING_KEY = "overt.pending_login"  # {"user": id, "method": str, "next": str, "at": float}
PENDING_SECONDS = 300
SECOND_FACTOR_KEY = "overt.second_factor"  # "totp", "idp" (the SSO provider did MFA) or ""
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass(frozen=True)
class Refusal:
    status: int  # 403 for a locked account, 429 for a rate-limited address
    message: str


def refusal(username: str, address: str) -> Refusal | None:
    """Why sign-in is refused before any password is checked, if it is."""
    now = timezone.now()
    live = Lockout.objects.filter(until__gt=now, cleared_at__isnull=True)
    if address and live.filter(address=address).exists():
        return Refusal(429, "Too many failed sign-ins from this address. Wait, then try again.")
    if username and live.filter(username=username).exists():
        return Refusal(
            403,
            "This account is locked after repeated failed sign-ins. Wait, or ask an "
            "administrator to unlock it.",
        )
    return None


@transaction.atomic
def record_failure(
    request: HttpRequest, username: str, reason: str, method: str = "password"
) -> Lockout | None:
    """Log a failed attempt; lock the account or the address when it is one too many."""
    settings = get_settings()
    client = client_of(request)
    now = timezone.now()
    username = username[:200]
    LoginFailure.objects.create(username=username, address=client.address, reason=reason, at=now)
    record(
        "login-failed",
        Actor("user", username or "(none)"),
        client=client,
        details={"method": method, "reason": reason},
    )
    if reason in {"locked", "rate-limited"}:
        return None
    since = now - timedelta(seconds=settings.login_lockout_seconds)
    cleared = Lockout.objects.filter(cleared_at__isnull=False)
    lockout = None
    if username:
        after = _last_clear(cleared.filter(username=username), since)
        count = (
            LoginFailure.objects.filter(username=username, at__gt=after)
            .exclude(reason__in=["locked", "rate-limited"])
            .count()
        )
        if count >= settings.login_max_failures:
            lockout = _lock(username=username, failures=count, now=now, client=client)
    if client.address:
        after = _last_clear(cleared.filter(address=client.address), since)
        count = (
            LoginFailure.objects.filter(address=client.address, at__gt=after)
            .exclude(reason__in=["locked", "rate-limited"])
            .count()
        )
        if count >= settings.login_address_max_failures:
            lockout = _lock(address=client.address, failures=count, now=now, client=client)
    return lockout


def _last_clear(cleared, since):
    last = cleared.order_by("-cleared_at").values_list("cleared_at", flat=True).first()
    return max(since, last) if last else since


def _lock(*, now, client: Client, failures: int, username: str = "", address: str = "") -> Lockout:
    live = Lockout.objects.filter(until__gt=now, cleared_at__isnull=True)
    existing = live.filter(username=username, address=address).first()
    if existing is not None:
        return existing
    until = now + timedelta(seconds=get_settings().login_lockout_seconds)
    lockout = Lockout.objects.create(
        username=username, address=address, failures=failures, locked_at=now, until=until
    )
    what = f"account {username}" if username else f"address {address}"
    Alert.objects.create(
        kind=Alert.Kind.LOCKOUT,
        message=f"{what} locked after {failures} failed sign-ins, until {until:%Y-%m-%d %H:%M} UTC",
        username=username,
    )
    record(
        "login-failed",
        Actor("user", username or "(none)"),
        client=client,
        details={
            "reason": "lockout",
            "locked": "account" if username else "address",
            "address": address,
            "failures": failures,
            "until": until.isoformat(),
        },
    )
    return lockout


@transaction.atomic
def unlock(username: str, *, by: Actor) -> int:
    """End an account's lockout early; returns how many lockouts were cleared."""
    now = timezone.now()
    live = Lockout.objects.filter(username=username, until__gt=now, cleared_at__isnull=True)
    count = live.update(cleared_at=now, cleared_by=str(by))
    if count:
        record(
            "permission-change",
            by,
            Subject("", {"user": username}),
            details={"change": "unlock"},
        )
    return count


def first_factor_passed(
    request: HttpRequest, user, method: str, next_url: str, *, mfa: bool = False
) -> str:
    """After a good password or SSO: where the browser goes next (a URL)."""
    if needs_totp(user) and not mfa:
        request.session.cycle_key()
        request.session[PENDING_KEY] = {
            "user": user.pk,
            "method": method,
            "next": next_url,
            "at": time.time(),
        }
        from django_otp.plugins.otp_totp.models import TOTPDevice

        enrolled = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        return reverse("login-totp") if enrolled else reverse("login-totp-setup")
    complete_login(request, user, method, second_factor="idp" if mfa else "")
    return next_url


def pending_user(request: HttpRequest):
    """The user who passed the first factor in this session, within the time allowed."""
    from django.contrib.auth import get_user_model

    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


def complete_login(
    request: HttpRequest, user, method: str, *, second_factor: str = "", device=None
) -> None:
    request.session.pop(PENDING_KEY, None)
    login(request, user, backend=MODEL_BACKEND)  # a new session key
    if device is not None:
        from django_otp import login as otp_login

        otp_login(request, device)
    request.session[SECOND_FACTOR_KEY] = second_factor
    request.session["overt.login_at"] = time.time()
    request.session["overt.seen_at"] = time.time()
    with transaction.atomic():
        record(
            "login",
            Actor("user", user.get_username()),
            client=client_of(request),
            details={"method": method, "second_factor": second_factor},
        )
