"""Single sign-on with OpenID Connect, through mozilla-django-oidc.

The library runs the code flow (state, nonce, token request, RS256 ID-token signature
against the provider's JWKS). overt adds: the ID token's audience and expiry must be
right, users are matched by a claim and never created, a locked account stays locked,
the TOTP step still applies (unless the provider says it did MFA, `amr`), and every
success and failure goes into the custody log.
"""

from __future__ import annotations

import jwt
import requests
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from overt.conf import get_settings
from overt.web.client_address import client_of
from overt.web.problems import problem

from .auth import first_factor_passed, record_failure, refusal

CLAIMED_KEY = "overt.oidc_claimed"
AMR_KEY = "overt.oidc_amr"
MFA_METHODS = frozenset({"mfa", "otp", "hwk"})


def enabled() -> bool:
    from django.conf import settings

    return bool(
        getattr(settings, "OIDC_RP_CLIENT_ID", "")
        and getattr(settings, "OIDC_OP_AUTHORIZATION_ENDPOINT", "")
        and getattr(settings, "OIDC_OP_TOKEN_ENDPOINT", "")
    )


class OvertOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        try:
            return super().authenticate(request, **kwargs)
        # A bad or expired token, or an unreachable provider: a failed sign-in, not a crash
        # (the library turns only some token errors into SuspiciousOperation).
        except (SuspiciousOperation, jwt.InvalidTokenError, requests.RequestException) as exc:
            if request is not None:
                request.session["overt.oidc_error"] = str(exc)[:200]
            return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token is for another client (aud)")
        if "exp" not in payload:
            raise SuspiciousOperation("ID token has no expiry (exp)")
        return payload

    def verify_claims(self, claims) -> bool:
        return bool(claims.get(get_settings().oidc_username_claim))

    def filter_users_by_claims(self, claims):
        name = str(claims.get(get_settings().oidc_username_claim) or "")
        self.request.session[CLAIMED_KEY] = name[:200]
        return get_user_model().objects.filter(username=name, is_active=True)

    def get_or_create_user(self, access_token, id_token, payload):
        amr = payload.get("amr") or []
        self.request.session[AMR_KEY] = [str(m) for m in amr] if isinstance(amr, list) else []
        return super().get_or_create_user(access_token, id_token, payload)

    def get_user(self, user_id):
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _not_configured() -> HttpResponse:
    return problem(
        404, "Single sign-on is not configured", "Set OVERT_OIDC_* (see docs/configuration.md)."
    )


class SSOStart(OIDCAuthenticationRequestView):
    def dispatch(self, request: HttpRequest, *args, **kwargs):
        if not enabled():
            return _not_configured()
        return super().dispatch(request, *args, **kwargs)


class SSOCallback(OIDCAuthenticationCallbackView):
    def dispatch(self, request: HttpRequest, *args, **kwargs):
        if not enabled():
            return _not_configured()
        return super().dispatch(request, *args, **kwargs)

    def login_success(self) -> HttpResponse:
        request = self.request
        amr = set(request.session.pop(AMR_KEY, []))
        request.session.pop(CLAIMED_KEY, None)
        refused = refusal(self.user.get_username(), client_of(request).address)
        if refused is not None:
            record_failure(request, self.user.get_username(), "locked", "oidc")
            return HttpResponseRedirect(reverse("login") + "?sso=locked")
        from .views.signin import safe_next  # the password sign-in's rule: / lands home

        next_url = safe_next(request, self.success_url)
        return HttpResponseRedirect(
            first_factor_passed(request, self.user, "oidc", next_url, mfa=bool(amr & MFA_METHODS))
        )

    def login_failure(self) -> HttpResponse:
        request = self.request
        claimed = request.session.pop(CLAIMED_KEY, "")
        error = request.session.pop("overt.oidc_error", "") or request.GET.get("error", "")
        reason = "sso-unknown-user" if claimed else "sso-refused"
        record_failure(request, claimed, reason, "oidc")
        if error:
            request.session["overt.sso_message"] = error[:200]
        return HttpResponseRedirect(reverse("login") + "?sso=failed")
