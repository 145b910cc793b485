"""Other sources on the upload page: footage that did not come off a body camera (a
witness's phone, a shop's CCTV export) still needs a registered device to be evidence.
The upload page registers one in a step, through the registry service `overt device add`
calls (a `metadata-change` custody entry), and offers it at once."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from overt.access.registry import register_device
from overt.custody.services import Actor
from overt.evidence.models import Device

from .views import may_upload

SOURCE_KINDS = {"phone": "Witness phone", "cctv": "CCTV export", "other": "Other source"}
PREFIX = {"phone": "PHONE", "cctv": "CCTV", "other": "SOURCE"}


def is_other_source(device: Device) -> bool:
    return any(device.model.startswith(label) for label in SOURCE_KINDS.values())


def next_serial(kind: str) -> str:
    """PHONE-20261206-3: the kind, the day, and a number unique for the day."""
    stem = f"{PREFIX[kind]}-{timezone.now():%Y%m%d}-"
    taken = Device.objects.filter(serial__startswith=stem).count()
    return f"{stem}{taken + 1}"


@login_required
@require_POST
def register_source(request: HttpRequest) -> HttpResponse:
    if not may_upload(request.user):
        raise PermissionDenied("this account may not upload evidence")
    kind = str(request.POST.get("kind", ""))
    described = " ".join(str(request.POST.get("description", "")).split())[:80]
    if kind not in SOURCE_KINDS or not described:
        return redirect(reverse("upload-new") + "?source=incomplete")
    device = register_device(
        next_serial(kind),
        f"{SOURCE_KINDS[kind]}: {described}",
        by=Actor("user", request.user.get_username()),
    )
    return redirect(reverse("upload-new") + f"?device={device.serial}")
