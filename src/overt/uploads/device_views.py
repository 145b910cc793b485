"""The admin's page of device upload tokens: every registered camera or dock, how many
live tokens it has, a new token (shown once) and revocation. It calls the service that
`overt device token` and `overt device revoke` call, so the custody entries are the same.

(Rebuilt by the issue-13 engineer after overwriting the original of this untracked file
by mistake; its author should check it against what they wrote.)"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from overt.access.matrix import Capability
from overt.access.services import AccessDenied, require
from overt.custody.services import Actor
from overt.evidence.models import Device

from .tokens import TokenError, issue_token, revoke_tokens


def _require(request: HttpRequest) -> Actor:
    try:
        require(request.user, Capability.MANAGE_TOKENS)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    return Actor("user", request.user.get_username())


def _devices() -> list[Device]:
    return list(
        Device.objects.annotate(
            live=Count("upload_tokens", filter=Q(upload_tokens__revoked_at__isnull=True))
        ).order_by("serial")
    )


@never_cache  # the page that shows a new token must never be kept by a cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def device_tokens_page(request: HttpRequest) -> HttpResponse:
    actor = _require(request)
    serial, text, error, status = "", "", "", 200
    if request.method == "POST":
        serial = request.POST.get("device", "").strip()
        try:
            text = issue_token(serial, dock=bool(request.POST.get("dock")), created_by=actor.id)
        except TokenError as exc:
            error, status = str(exc), 400
    context = {"devices": _devices(), "serial": serial, "text": text, "error": error}
    return render(request, "uploads/device_tokens.html", context, status=status)


@login_required
@require_POST
def device_tokens_revoke(request: HttpRequest) -> HttpResponse:
    actor = _require(request)
    try:
        revoke_tokens(request.POST.get("device", "").strip(), revoked_by=actor.id)
    except TokenError:
        pass  # unknown device: nothing to revoke
    return redirect("device-tokens")
