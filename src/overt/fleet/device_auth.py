"""Camera agents authenticate to the fleet API with their device token (the uploads
stage's DeviceToken, `Authorization: Bearer <token>`), as they do to tus."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from overt.uploads.errors import NotSignedIn
from overt.uploads.tokens import Principal, device_for_authorization


class DeviceUser:
    """The request's user when a camera calls: never a person, never staff."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.serial = principal.id

    def get_username(self) -> str:
        return f"device:{self.serial}"


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[DeviceUser, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        words = header.split()
        if not words or words[0].lower() != "bearer":
            return None  # not ours: the next authentication class may take it
        try:
            principal = device_for_authorization(header)
        except NotSignedIn as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        return DeviceUser(principal), principal.token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="overt"'


class IsDevice(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, DeviceUser)


class DeviceTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # drf-spectacular is untyped
    target_class = "overt.fleet.device_auth.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A camera's device token (`overt device token SERIAL`).",
        }
