"""Security headers on every response, and the session rules on every request.

- SecurityHeadersMiddleware: a Content-Security-Policy with no inline script and
  `frame-ancestors 'none'`, plus referrer, permissions and cross-origin policies. (HSTS
  comes from Django's SecurityMiddleware, which sends it on TLS requests only.)
- SessionPolicyMiddleware (after authentication and django-otp's middleware): ends a
  session that sat idle too long or outlived its lifetime, and one whose role needs a
  second factor that this session never passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from overt.conf import get_settings

if TYPE_CHECKING:
    from .identity import User

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
SEEN_KEY = "overt.seen_at"
LOGIN_AT_KEY = "overt.login_at"
SEEN_GRANULARITY_S = 15  # write the session at most this often just to note activity


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._enforce(request, user)
        return self.get_response(request)

    def _enforce(self, request: HttpRequest, user: User) -> None:
        from .identity import needs_totp

        settings = get_settings()
        session = request.session
        now = time.time()
        seen = session.get(SEEN_KEY)
        login_at = session.get(LOGIN_AT_KEY)
        if (seen is not None and now - seen > settings.session_idle_seconds) or (
            login_at is not None and now - login_at > settings.session_max_seconds
        ):
            logout(request)
            return
        if needs_totp(user) and not _verified(request, user):
            logout(request)  # a session without the second factor its role needs
            return
        if seen is None or now - seen >= SEEN_GRANULARITY_S:
            session[SEEN_KEY] = now


def _verified(request: HttpRequest, user: User) -> bool:
    """django-otp verified this session's TOTP, or the SSO provider reported MFA."""
    from .auth import SECOND_FACTOR_KEY

    if request.session.get(SECOND_FACTOR_KEY) == "idp":
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
