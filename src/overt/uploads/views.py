"""The upload page for evidence officers (files from other sources, by tus from the
browser), and the answer Django gives if /files/ ever reaches it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from overt.conf import get_settings
from overt.evidence.models import Device, Officer
from overt.web.problems import problem


def may_upload(user: User | AnonymousUser) -> bool:
    """Who may upload files as evidence from the browser: evidence managers, and anyone
    given the `uploads.add_upload` permission."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.has_perm("uploads.add_upload"):
        return True
    try:
        from overt.access.matrix import Role
        from overt.access.services import role_of
    except ImportError:
        return False
    return role_of(user) == Role.EVIDENCE_MANAGER


@login_required
def upload_page(request: HttpRequest) -> HttpResponse:
    if not may_upload(request.user):
        raise PermissionDenied("this account may not upload evidence")
    from .sources import SOURCE_KINDS, is_other_source

    devices = list(Device.objects.filter(revoked_at__isnull=True).order_by("serial"))
    return render(
        request,
        "uploads/upload.html",
        {
            "nav": "upload",
            "officers": Officer.objects.filter(active=True).order_by("number"),
            # Other sources (witness phones, CCTV) first: this form is mostly for them.
            "sources": [d for d in devices if is_other_source(d)],
            "devices": [d for d in devices if not is_other_source(d)],
            "chosen": request.GET.get("device", ""),
            "incomplete": request.GET.get("source") == "incomplete",
            "source_kinds": SOURCE_KINDS.items(),
            "max_bytes": get_settings().upload_max_bytes,
        },
    )


@csrf_exempt
def tus_needs_asgi(request: HttpRequest, rest: str = "") -> HttpResponse:
    response = problem(
        501,
        "Not Implemented",
        "tus uploads are served by the streaming handler of `overt serve` (ASGI); this "
        "server path does not take them",
    )
    response["Tus-Resumable"] = "1.0.0"
    return response
