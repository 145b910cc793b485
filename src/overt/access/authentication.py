"""Scoped API tokens for integrations: `Authorization: Bearer ovt_...`.

Only the token's SHA-256 is stored. A token acts as its user, narrowed to its scopes
(matrix actions such as `list` or `view`, and `read-custody`): it can never do more
than its user's role allows. Revoked or expired tokens, and tokens of inactive users,
are refused with 401.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .grants import TOKEN_PREFIX, token_digest
from .identity import SCOPES_ATTR, forget


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2 or not header[1].startswith(TOKEN_PREFIX):
            raise exceptions.AuthenticationFailed("malformed bearer token")
        from .models import ApiToken

        token = (
            ApiToken.objects.select_related("user").filter(digest=token_digest(header[1])).first()
        )
        now = timezone.now()
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("unknown or revoked token")
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("this token has expired")
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("this token's user is disabled")
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        forget(user)
        setattr(user, SCOPES_ATTR, frozenset(token.scopes))
        return user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the token."""

    target_class = "overt.access.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A scoped integration token (`overt token create`), ovt_...",
        }
