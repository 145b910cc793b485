"""DRF permission classes that ask the access service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

from .matrix import Capability
from .services import capability

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ReadsCustody(BasePermission):
    """The custody log, proofs, checkpoints and verify results: auditors and evidence
    managers (and tokens scoped `read-custody`)."""

    message = "reading the custody log needs the auditor or evidence-manager role"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated) and capability(user, Capability.READ_CUSTODY)
