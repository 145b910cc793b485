"""The administrator's page of camera enrolment (issue 13): each device with its signing
keys and their windows, a one-time enrolment code (shown once), and revocation. It calls
the service `overt device enrol`, `revoke` and `reinstate` call, so the custody entries
are the same."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from overt.access.matrix import Capability
from overt.access.services import AccessDenied, require
from overt.custody.services import Actor
from overt.errors import DomainError
from overt.evidence.models import Device
from overt.ingest.models import DeviceKey

from .enrolment import IssuedCode, issue_code, reinstate_device, revoke_device


def _admin(request: HttpRequest) -> Actor:
    try:
        require(request.user, Capability.MANAGE_TOKENS)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    return Actor("user", request.user.get_username())


@never_cache  # the page that shows a code must never be kept by a cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def device_enrolment_page(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    issued: IssuedCode | None = None
    message, error, status = "", "", 200
    if request.method == "POST":
        serial, action = request.POST.get("device", "").strip(), request.POST.get("action")
        try:
            if action == "code":
                issued = issue_code(serial, by=actor)
            elif action == "revoke":
                counts = revoke_device(serial, by=actor)
                message = (
                    f"{serial} revoked: {counts['tokens']} token(s), {counts['keys']} key(s) "
                    f"retired, {counts['codes']} code(s) voided."
                )
            elif action == "reinstate":
                reinstate_device(serial, by=actor)
                message = f"{serial} reinstated: it must enrol again with a new code."
            else:
                error, status = "unknown action", 400
        except DomainError as exc:
            error, status = str(exc), exc.status
    keys: dict[int, list[DeviceKey]] = {}
    for key in DeviceKey.objects.order_by("valid_from"):
        keys.setdefault(key.device_id, []).append(key)
    devices = [
        {
            "device": d,
            "keys": keys.get(d.pk, []),
            "current": next((k for k in keys.get(d.pk, []) if k.valid_until is None), None),
        }
        for d in Device.objects.order_by("serial")
    ]
    context = {"devices": devices, "issued": issued, "message": message, "error": error}
    return render(request, "uploads/device_enrolment.html", context, status=status)
