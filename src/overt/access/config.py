"""The Django settings that identity and access need, derived from OvertSettings.

`overt.project.settings` merges these in; change behaviour through OvertSettings fields
(docs/configuration.md), never here.
"""

from __future__ import annotations

from typing import Any

from overt.conf import OvertSettings


def django_settings(overt: OvertSettings) -> dict[str, Any]:
    tls = overt.behind_tls
    values: dict[str, Any] = {
        # argon2id first; older hashes still verify and are upgraded at the next sign-in.
        "PASSWORD_HASHERS": [
            "django.contrib.auth.hashers.Argon2PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
            "django.contrib.auth.hashers.ScryptPasswordHasher",
        ],
        "AUTHENTICATION_BACKENDS": [
            "django.contrib.auth.backends.ModelBackend",
            "overt.access.oidc.OvertOIDCBackend",
        ],
        "SESSION_COOKIE_AGE": overt.session_max_seconds,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",  # Strict would drop the cookie on the SSO return
        "SESSION_COOKIE_SECURE": tls,
        "CSRF_COOKIE_SECURE": tls,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": tls,
        "SECURE_HSTS_SECONDS": 365 * 86400,  # sent by SecurityMiddleware on TLS requests only
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        "OTP_TOTP_ISSUER": "overt",
        **oidc_settings(overt),
    }
    if tls:
        values["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
    return values


def oidc_settings(s: OvertSettings) -> dict[str, Any]:
    """mozilla-django-oidc's settings (overt.access.oidc); the library reads them per request."""
    return {
        "OIDC_RP_CLIENT_ID": s.oidc_client_id,
        "OIDC_RP_CLIENT_SECRET": s.oidc_client_secret.get_secret_value(),
        "OIDC_OP_AUTHORIZATION_ENDPOINT": s.oidc_authorization_endpoint,
        "OIDC_OP_TOKEN_ENDPOINT": s.oidc_token_endpoint,
        "OIDC_OP_USER_ENDPOINT": s.oidc_userinfo_endpoint,
        "OIDC_OP_JWKS_ENDPOINT": s.oidc_jwks_endpoint,
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_RP_SCOPES": "openid profile",
        "OIDC_CREATE_USER": False,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_TIMEOUT": 15,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_authentication_callback",
        "LOGIN_REDIRECT_URL_FAILURE": "/login/?sso=failed",
    }
