"""Case pages: the list (and opening a case), one case (items with thumbnails, people,
custody timeline, bulk actions, sharing, the bundle), and the library's bulk action."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from overt import errors
from overt.access.services import Capability, capability, justification_categories
from overt.custody.models import CustodyEntry
from overt.evidence.models import Derivative
from overt.web.client_address import client_of

from .. import bulk, bundle, documents, items, services
from ..models import CaseMember
from ..web import download_response, zip_response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def case_list(request: HttpRequest) -> HttpResponseBase:
    problem, status = "", 200
    if request.method == "POST":
        try:
            case = services.create_case(
                request.user,
                request.POST.get("reference", ""),
                request.POST.get("title", ""),
                officer_in_charge=request.POST.get("officer_in_charge") or None,
                disclosure_officer=request.POST.get("disclosure_officer") or None,
                client=client_of(request),
            )
        except errors.DomainError as exc:
            problem, status = str(exc), exc.status
        else:
            return redirect("case", case.pk)
    cases = services.visible_cases(request.user).prefetch_related("items")[:500]
    context = {
        "cases": cases,
        "problem": problem,
        "nav": "cases",
        "may_open": capability(request.user, Capability.MANAGE_CASES),
    }
    return render(request, "cases/list.html", context, status=status)


def _poster(item: Any) -> int | None:
    if item.derivative is not None and item.derivative.kind == "still":
        return int(item.derivative.pk)
    if item.recording_id is None:
        return None
    poster = Derivative.objects.filter(original__recording_id=item.recording_id, kind="poster")
    return poster.values_list("pk", flat=True).first()


POST_ACTIONS = {
    "add", "add-derivative", "document", "remove", "dnd", "undnd", "member", "end-member", "close"
}  # fmt: skip


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def case_page(request: HttpRequest, case_id: int) -> HttpResponseBase:
    case = services.case_for(request.user, case_id)
    problem, status = "", 200
    if request.method == "POST":
        try:
            done = _act(request, case)
        except errors.DomainError as exc:
            problem, status = str(exc), exc.status
        else:
            if isinstance(done, HttpResponseBase):
                return done
            messages.success(request, done)
            return redirect("case", case.pk)
    rows, hidden = services.items_shown_to(request.user, case)
    # "Shared with me" counts what was added since this person last opened the case.
    CaseMember.active().filter(case=case, user_id=int(request.user.pk or 0)).update(
        seen_at=timezone.now()
    )
    timeline = list(case.log.order_by("-custody_index")[:200])
    times = dict(
        CustodyEntry.objects.filter(index__in=[t.custody_index for t in timeline]).values_list(
            "index", "recorded_at"
        )
    )
    context = {
        "case": case,
        "hidden": hidden,
        "items": [(i, _poster(i)) for i in rows],
        "problem": problem,
        "members": CaseMember.active().filter(case=case).select_related("user"),
        "parts": CaseMember.Part.choices,
        "timeline": [(t, times.get(t.custody_index)) for t in timeline],
        "may_change": services.may_change(request.user, case),
        "nav": "cases",
        "may_share": capability(request.user, Capability.SHARE_OUTSIDE),
        "reasons": justification_categories(),
        "shares": case.shares.all()[:50],
    }
    return render(request, "cases/case.html", context, status=status)


def _act(request: HttpRequest, case: Any) -> str | HttpResponseBase:
    user, post, client = request.user, request.POST, client_of(request)
    op = post.get("op", "")
    chosen = post.getlist("item")
    reason = post.get("reason", "")
    if op == "add":
        ids = [i for i in post.get("recordings", "").replace(",", " ").split() if i]
        added = items.add_recordings(user, case, ids, client=client)
        return f"{len(added)} recording(s) added; each is held while the case is open"
    if op == "add-derivative":
        items.add_derivative(user, case, post.get("derivative"), client=client)
        return "added"
    if op == "document":
        upload = request.FILES.get("file")
        if upload is None:
            raise errors.Invalid("choose a file", field="file")
        items.add_document(user, case, upload.name or "document", upload, client=client)
        return f"{upload.name} added"
    if op in {"remove", "dnd", "undnd"}:
        if not chosen:
            raise errors.Invalid("select at least one item", field="item")
        for item_id in chosen:  # each its own custody entry
            if op == "remove":
                items.remove_item(user, case, item_id, reason=reason, client=client)
            else:
                items.set_do_not_disclose(
                    user, case, item_id, op == "dnd", reason=reason, client=client
                )
        return f"{len(chosen)} item(s) changed"
    if op == "share":
        query = "&".join(f"item={i}" for i in chosen)
        return redirect(reverse("case-share", args=[case.pk]) + (f"?{query}" if query else ""))
    if op == "member":
        services.add_member(user, case, post.get("user", ""), post.get("part", ""), client=client)
        return f"{post.get('user')} is on the case"
    if op == "end-member":
        ended = services.end_member(user, case, post.get("member", ""), client=client)
        return f"{ended.user.get_username()} is off the case"
    if op == "close":
        services.close_case(user, case, reason=reason, client=client)
        return "case closed; its holds are released"
    raise errors.Invalid("unknown action", field="op")


@login_required
@require_http_methods(["POST"])
def case_bundle(request: HttpRequest, case_id: int) -> HttpResponseBase:
    made = bundle.case_bundle(
        request.user,
        case_id,
        category=request.POST.get("category"),
        text=request.POST.get("text"),
        client=client_of(request),
    )
    return zip_response(request, made.filename, made.chunks, made.custody_indices)


@login_required
@require_http_methods(["GET"])  # no HEAD: each GET is a logged download
def case_document(request: HttpRequest, case_id: int, item_id: int) -> HttpResponseBase:
    """A document's bytes, as held (custody action `download`), from the case page's link."""
    got = documents.download_document(request.user, case_id, item_id, client=client_of(request))
    return download_response(request, got)


@login_required
@require_http_methods(["POST"])
def library_bulk(request: HttpRequest) -> HttpResponse:
    """The library's bulk bar: add the selected recordings to a case, or share them."""
    ids = request.POST.getlist("recording")
    if not ids:
        raise errors.Invalid("select at least one recording", field="recording")
    op = request.POST.get("op", "case")
    if op == "case":
        case = services.case_for(request.user, request.POST.get("case"))
        added = items.add_recordings(request.user, case, ids, client=client_of(request))
        messages.success(request, f"{len(added)} recording(s) added to case {case.reference}")
        return redirect("case", case.pk)
    if op == "new-case":
        with transaction.atomic():
            case = services.create_case(
                request.user,
                request.POST.get("reference", ""),
                request.POST.get("title", ""),
                client=client_of(request),
            )
            items.add_recordings(request.user, case, ids, client=client_of(request))
        return redirect("case", case.pk)
    if op in {"categorise", "hold"}:
        done = bulk.apply(request.user, op, ids, request.POST, client_of(request))
        messages.success(request, done)
        return redirect(bulk.safe_next(request.POST.get("next") or "/", request.get_host()))
    if op == "share":
        query = "&".join(f"recording={i}" for i in ids)
        return redirect(reverse("shares") + f"?{query}")
    raise errors.Invalid("unknown bulk action", field="op")
