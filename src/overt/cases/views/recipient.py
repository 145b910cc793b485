"""The outside recipient's pages: no account, a link and a code (overt.cases.recipient).

The code opens the share for this browser session for at most SESSION_HOURS (and never
past the share's expiry); a refusal is a plain page with its status: 404 for a link that
names nothing, 403 for a wrong code, 410 for a share or item that has ended, 429 for too
many wrong codes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from overt import errors
from overt.web.client_address import client_of

from .. import recipient
from ..models import ExternalShare
from ..web import download_response, file_response

SESSION_HOURS = 8


def _key(share_id: str) -> str:
    return f"overt.share.{share_id[:32]}"


def _refusal(request: HttpRequest, exc: errors.DomainError) -> HttpResponse:
    context = {"status": exc.status, "message": str(exc), "gone": exc.status == 410}
    response = render(request, "cases/recipient_refused.html", context, status=exc.status)
    response["Cache-Control"] = "no-store"
    return response


def _unlocked(request: HttpRequest, share: ExternalShare) -> bool:
    raw = request.session.get(_key(share.pk))
    if not raw:
        return False
    opened = datetime.fromisoformat(raw)
    return timezone.now() < min(opened + timedelta(hours=SESSION_HOURS), share.expires_at)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def share_home(request: HttpRequest, share_id: str) -> HttpResponseBase:
    client = client_of(request)
    try:
        share = recipient.live_share(share_id, client)
        wrong = ""
        if request.method == "POST":
            try:
                recipient.unlock(share_id, request.POST.get("code", ""), client)
            except recipient.WrongCode as exc:
                wrong = str(exc)
            else:
                request.session.cycle_key()
                request.session[_key(share.pk)] = timezone.now().isoformat()
                return redirect("recipient", share.pk)
    except errors.DomainError as exc:
        return _refusal(request, exc)
    if not _unlocked(request, share):
        return render(
            request,
            "cases/recipient_code.html",
            {"share": share, "wrong": wrong},
            status=403 if wrong else 200,
        )
    context = {"share": share, "items": share.items.all()}
    return render(request, "cases/recipient_home.html", context)


def _item(request: HttpRequest, share_id: str, item_id: int) -> tuple[ExternalShare, object]:
    client = client_of(request)
    share = recipient.live_share(share_id, client)
    if not _unlocked(request, share):
        raise errors.Refused("enter the code for this link first")
    return share, recipient.shared_item(share, item_id, client)


@never_cache
@require_http_methods(["GET", "HEAD"])
def share_watch(request: HttpRequest, share_id: str, item_id: int) -> HttpResponseBase:
    """The player page; the stream itself is share_stream."""
    try:
        share, item = _item(request, share_id, item_id)
    except errors.DomainError as exc:
        return _refusal(request, exc)
    part = int(request.GET.get("part", "0") or 0) if request.GET.get("part", "0").isdigit() else 0
    return render(
        request, "cases/recipient_watch.html", {"share": share, "item": item, "part": part}
    )


@never_cache
@require_http_methods(["GET"])
def share_stream(request: HttpRequest, share_id: str, item_id: int) -> HttpResponseBase:
    try:
        share, item = _item(request, share_id, item_id)
        part = int(request.GET.get("part", "0")) if request.GET.get("part", "0").isdigit() else 0
        playback = recipient.watch(share, item, part, client_of(request))  # type: ignore[arg-type]
    except errors.DomainError as exc:
        return _refusal(request, exc)
    return file_response(
        request, playback.chunks, playback.content_type, index=playback.custody_index
    )


@never_cache
@require_http_methods(["POST"])
def share_download(request: HttpRequest, share_id: str, item_id: int) -> HttpResponseBase:
    try:
        share, item = _item(request, share_id, item_id)
        raw = request.POST.get("part", "0")
        part = int(raw) if raw.isdigit() else 0
        got = recipient.download(share, item, part, client_of(request))  # type: ignore[arg-type]
    except errors.DomainError as exc:
        return _refusal(request, exc)
    response = download_response(request, got)
    response["Repr-Digest"] = recipient.repr_digest(got.sha256)
    return response
