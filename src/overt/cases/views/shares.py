"""Pages of the people who share: making a share (the code shown once), the list of
shares, one share with its receipt and revocation; and "Shared with me" for internal
prosecutors and investigators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from overt import errors
from overt.access.services import Capability, require, visible_recordings
from overt.web.client_address import client_of

from .. import inbox, receipts, services, sharing
from ..mail import mail_configured


def _share_form(request: HttpRequest, context: dict[str, Any]) -> HttpResponseBase:
    post = request.POST
    status = 200
    if request.method == "POST":
        try:
            made = sharing.create_share(
                request.user,
                case=context.get("case_id"),
                recording=None if context.get("case_id") else post.get("recording"),
                recipient_name=post.get("recipient_name", ""),
                recipient_email=post.get("recipient_email", ""),
                recipient_organisation=post.get("recipient_organisation", ""),
                expires_at=post.get("expires_at", ""),
                allow_download=post.get("allow_download") == "on",
                items=[int(i) for i in post.getlist("item") if i.isdigit()] or None,
                send_mail=post.get("send_email") == "on",
                client=client_of(request),
            )
        except errors.DomainError as exc:
            context["problem"], status = str(exc), exc.status
        else:
            # The code is in this page only: not in a redirect, a message or a log.
            response = render(request, "cases/share_made.html", {"made": made, "nav": "shares"})
            response["Cache-Control"] = "no-store"
            return response
    context.setdefault(
        "default_expiry", (timezone.now() + timedelta(days=28)).strftime("%Y-%m-%dT%H:%M")
    )
    context.setdefault(
        "max_expiry", (timezone.now() + timedelta(days=sharing.MAX_DAYS)).strftime("%Y-%m-%dT%H:%M")
    )
    context["mail"] = mail_configured()
    return render(request, "cases/share_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def case_share(request: HttpRequest, case_id: int) -> HttpResponseBase:
    require(request.user, Capability.SHARE_OUTSIDE)
    case = services.case_for(request.user, case_id)
    chosen = {int(i) for i in request.GET.getlist("item") if i.isdigit()}
    rows = list(services.active_items(case))
    context = {"case": case, "case_id": case.pk, "items": rows, "chosen": chosen, "nav": "shares"}
    return _share_form(request, context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def share_list(request: HttpRequest) -> HttpResponseBase:
    """Every outside share; a recording share is made here (?recording=ID)."""
    shares = sharing.visible_shares(request.user).select_related("case")[:500]
    wanted = [
        i
        for i in request.GET.getlist("recording") + request.POST.getlist("recording")
        if i.isdigit()
    ]
    recordings = list(visible_recordings(request.user).filter(pk__in=wanted)) if wanted else []
    context = {"shares": shares, "recordings": recordings, "now": timezone.now(), "nav": "shares"}
    if request.method == "POST":
        if len(wanted) != 1:
            context["problem"] = "a share holds one recording, or a case: put several in a case"
            return render(request, "cases/share_form.html", context, status=400)
    return (
        _share_form(request, context)
        if recordings
        else render(request, "cases/shares.html", context)
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def share_page(request: HttpRequest, share_id: str) -> HttpResponseBase:
    share = sharing.share_for(request.user, share_id)
    problem, status = "", 200
    if request.method == "POST":
        try:
            sharing.revoke_share(
                request.user,
                share.pk,
                reason=request.POST.get("reason", ""),
                client=client_of(request),
            )
            share.refresh_from_db()
        except errors.DomainError as exc:
            problem, status = str(exc), exc.status
    data = receipts.receipt(share, request.user)
    context = {"share": share, "r": data, "problem": problem, "nav": "shares"}
    return render(request, "cases/share.html", context, status=status)


@login_required
@require_http_methods(["GET"])  # a HEAD would log an export that sent nothing
def share_receipt(request: HttpRequest, share_id: str, fmt: str) -> HttpResponse:
    return receipt_response(receipts.receipt_file(request.user, share_id, fmt, client_of(request)))


def receipt_response(made: receipts.ReceiptFile) -> HttpResponse:
    """The receipt as a download: the page's and the API's answer alike."""
    response = HttpResponse(made.body, content_type=made.content_type)
    response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "HEAD"])
def shared_with_me(request: HttpRequest) -> HttpResponse:
    """Cases and recordings shared with this user: by whom, until when, what is new."""
    found = inbox.shared_with(request.user)
    context = {
        "cases": found.cases,
        "recordings": found.recordings,
        "now": found.now,
        "nav": "shared-with-me",
    }
    return render(request, "cases/shared_with_me.html", context)
