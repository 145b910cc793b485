"""Sign-in pages: password, TOTP, TOTP enrolment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from overt.web.client_address import client_of

from .. import oidc
from ..accounts import confirm_totp, totp_to_enrol
from ..auth import (
    complete_login,
    first_factor_passed,
    pending_user,
    record_failure,
    refusal,
)
from ..forms import (
    LoginForm,
    TokenForm,
)

if TYPE_CHECKING:
    from ..identity import User

SETUP_KEY = "overt.totp_setup_device"
BAD_LOGIN = "Your username and password did not match. Please try again."


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """`candidate` if it is a path on this site, else the landing page (each role's home,
    settings.LOGIN_REDIRECT_URL): no open redirects. The site root counts as no choice:
    a sign-in that began by opening the site lands on the home page.

    Only absolute paths are taken: Django's redirect() reads a bare word ("abc") as a URL
    name to reverse, which raised (a 500) for anything that is not one."""
    landing = str(settings.LOGIN_REDIRECT_URL)
    if candidate == "/":
        return landing
    if candidate and candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return landing


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method != "POST" and request.user.is_authenticated:
        return redirect(next_url)
    form = LoginForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.GET.get("sso") == "failed":
        error = "Single sign-on did not sign you in. " + request.session.pop(
            "overt.sso_message", ""
        )
    elif request.GET.get("sso") == "locked":
        error = "This account is locked after repeated failed sign-ins."
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        refused = refusal(username, client_of(request).address)
        if refused is not None:
            reason = "rate-limited" if refused.status == 429 else "locked"
            record_failure(request, username, reason)
            error, status = refused.message, refused.status
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                lockout = record_failure(request, username, "bad-credentials")
                error = BAD_LOGIN
                if lockout is not None:
                    error += " Too many failures: sign-in is now locked for a while."
            else:
                return redirect(first_factor_passed(request, user, "password", next_url))
    elif request.method == "POST":
        error, status = "Enter your username and password.", 400
    context = {"form": form, "next": next_url, "error": error, "sso": oidc.enabled()}
    return render(request, "access/login.html", context, status=status)


def _second_factor_refused(request: HttpRequest, user: User) -> HttpResponse | None:
    refused = refusal(user.get_username(), client_of(request).address)
    if refused is None:
        return None
    record_failure(request, user.get_username(), "locked", "totp")
    request.session.flush()
    return render(
        request,
        "access/login.html",
        {"form": LoginForm(), "next": "/", "error": refused.message, "sso": oidc.enabled()},
        status=refused.status,
    )


@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def totp_view(request: HttpRequest) -> HttpResponse:
    from django_otp import match_token

    user, pending = pending_user(request)
    if user is None:
        return redirect("login")
    form = TokenForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.method == "POST":
        stopped = _second_factor_refused(request, user)
        if stopped is not None:
            return stopped
        device = match_token(user, form.data.get("token", "").strip()) if form.is_valid() else None
        if device is not None:
            complete_login(request, user, pending["method"], second_factor="totp", device=device)
            return redirect(safe_next(request, pending.get("next")))
        record_failure(request, user.get_username(), "bad-totp", pending["method"])
        error, status = "That code is not right (or was used already). Try the next one.", 400
    return render(request, "access/totp.html", {"form": form, "error": error}, status=status)


@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def totp_setup_view(request: HttpRequest) -> HttpResponse:
    import segno
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user, pending = pending_user(request)
    if user is None:
        return redirect("login")
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("login-totp")  # enrolled already: never show a secret again
    device = totp_to_enrol(user, request.session.get(SETUP_KEY))
    request.session[SETUP_KEY] = device.pk
    form = TokenForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.method == "POST":
        stopped = _second_factor_refused(request, user)
        if stopped is not None:
            return stopped
        if form.is_valid() and device.verify_token(form.cleaned_data["token"].strip()):
            confirm_totp(user, device, client=client_of(request))
            request.session.pop(SETUP_KEY, None)
            complete_login(request, user, pending["method"], second_factor="totp", device=device)
            return redirect(safe_next(request, pending.get("next")))
        record_failure(request, user.get_username(), "bad-totp", pending["method"])
        error, status = "That code is not right. Check the time on your phone and try again.", 400
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    context = {
        "form": form,
        "error": error,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "uri": device.config_url,
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=4),
    }
    return render(request, "access/totp_setup.html", context, status=status)
