"""The evidence manager's retention work in the browser: holds (place, release, list),
the recycle bin (recover), early deletion (request; approve or refuse by a second person)
and policies with their categories. Each form calls the service the `overt retention`
commands call, so the custody entries are the same; a refusal is shown on the page.

The pages name, offer and act on only the recordings the signed-in manager may know of
(the matrix's `list`): a recording restricted to others reads as one that does not
exist, here as everywhere (tests/access/test_id_walk_new_apps.py walks it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from overt.access.services import visible_recordings
from overt.custody.services import Actor
from overt.evidence.models import Category, Recording

from . import services
from .common import NotFound, RetentionError
from .models import DeletionRequest, Disposal, Hold
from .rules import AT_EXPIRY, HOLD_KINDS, STARTS_FROM, TRIGGER_KINDS, Period, RuleError
from .views import _may_manage

RECENT = 300  # recordings offered in a form's picker (the number field takes any id)


def _actor(request: HttpRequest) -> Actor:
    return Actor("user", request.user.get_username())


def _recent_recordings(request: HttpRequest) -> list[Recording]:
    rows = visible_recordings(request.user).select_related("officer")
    return list(rows.order_by("-trigger_on_at", "-pk")[:RECENT])


def _number(request: HttpRequest, name: str) -> int:
    raw = str(request.POST.get(name, "")).strip()
    if not raw.isascii() or not raw.isdigit():
        raise RuleError(f"choose a {name.replace('_', ' ')} (a number)")
    return int(raw)


def _recording(request: HttpRequest) -> int:
    """The form's recording, if the manager may know of it; else as for no recording."""
    number = _number(request, "recording")
    hidden = Recording.objects.filter(pk=number).exclude(
        pk__in=visible_recordings(request.user).filter(pk=number).values("pk")
    )
    if hidden.exists():
        raise NotFound(f"no recording {number}")  # the service's words for a missing one
    return number


def _act(request: HttpRequest, do: Callable[[], Any], done: str) -> bool:
    """Run a service call. Done: the message waits for the page after the redirect.
    Refused: the page shows why, answering 400 (the service wrote nothing)."""
    try:
        do()
    except (RetentionError, RuleError) as exc:
        request.retention_error = str(exc)  # type: ignore[attr-defined]
        return False
    request.session["retention-done"] = done
    return True


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    error = getattr(request, "retention_error", "")
    done = "" if error else request.session.pop("retention-done", "")
    base = {"nav": "retention", "error": error, "done": done, "recent": _recent_recordings(request)}
    return render(request, template, {**base, **context}, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def holds_page(request: HttpRequest) -> HttpResponse:
    _may_manage(request)
    if request.method == "POST":
        actor = _actor(request)
        if request.POST.get("do") == "release":
            _act(
                request,
                lambda: services.release_hold(
                    _recording(request),
                    reason=str(request.POST.get("reason", "")),
                    actor=actor,
                    hold_id=_number(request, "hold"),
                ),
                "Hold released.",
            )
        else:
            _act(
                request,
                lambda: services.set_hold(
                    _recording(request),
                    kind=str(request.POST.get("kind", "legal")),
                    reason=str(request.POST.get("reason", "")),
                    reference=str(request.POST.get("reference", ""))[:200],
                    actor=actor,
                ),
                "Hold placed.",
            )
        if not getattr(request, "retention_error", ""):
            return redirect("retention-holds")
    active = list(
        Hold.objects.filter(released_at__isnull=True)
        .select_related("recording")
        .order_by("-set_at")
    )
    released = Hold.objects.filter(released_at__isnull=False).order_by("-released_at")[:50]
    refs = [h.recording_ref for h in active]
    context = {
        "active": active,
        # Titles only of the recordings the manager may know of; the others by number.
        "shown": set(
            visible_recordings(request.user).filter(pk__in=refs).values_list("pk", flat=True)
        ),
        "released": released,
        "kinds": HOLD_KINDS.items(),
    }
    return _page(request, "retention/holds.html", context)


def _date(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.combine(datetime.strptime(raw, "%Y-%m-%d").date(), time(), UTC)
    except ValueError:
        raise RuleError("keep-until must be a date") from None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def recycle_page(request: HttpRequest) -> HttpResponse:
    _may_manage(request)
    if request.method == "POST":
        actor = _actor(request)
        _act(
            request,
            lambda: services.recover(
                _recording(request),
                reason=str(request.POST.get("reason", "")),
                actor=actor,
                keep_until_date=_date(str(request.POST.get("keep_until", ""))),
            ),
            "Recovered from the recycle bin.",
        )
        if not getattr(request, "retention_error", ""):
            return redirect("retention-recycle")
    rows = Disposal.objects.filter(status__in=services.OPEN).order_by("purge_after")
    return _page(
        request,
        "retention/recycle.html",
        {"recycled": rows, "recycle_days": services.recycle_window().days},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def deletion_page(request: HttpRequest) -> HttpResponse:
    _may_manage(request)
    user: Any = request.user
    if request.method == "POST":
        reason = str(request.POST.get("reason", ""))
        if request.POST.get("do") in {"approve", "refuse"}:
            approve = request.POST.get("do") == "approve"
            _act(
                request,
                lambda: services.decide_deletion(
                    _number(request, "request"), user=user, reason=reason, approve=approve
                ),
                "Approved: the recording is in the recycle bin." if approve else "Refused.",
            )
        else:
            _act(
                request,
                lambda: services.request_deletion(_recording(request), user=user, reason=reason),
                "Requested: a second person must now approve it.",
            )
        if not getattr(request, "retention_error", ""):
            return redirect("retention-deletion")
    rows = DeletionRequest.objects.select_related("requested_by", "decided_by")
    context = {
        "pending": rows.filter(status=DeletionRequest.Status.PENDING).order_by("requested_at"),
        "decided": rows.exclude(status=DeletionRequest.Status.PENDING).order_by("-decided_at")[:50],
    }
    return _page(request, "retention/deletion.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def policies_page(request: HttpRequest) -> HttpResponse:
    _may_manage(request)
    if request.method == "POST":
        actor = _actor(request)
        post = request.POST
        if post.get("do") == "assign":
            _act(
                request,
                lambda: services.assign_policy(
                    str(post.get("category", "")).strip(), str(post.get("policy", "")), actor=actor
                ),
                "Category assigned.",
            )
        else:
            _act(
                request,
                lambda: services.set_policy(
                    str(post.get("name", "")).strip(),
                    period=Period.parse(str(post.get("period", ""))),
                    starts_from=str(post.get("starts_from", "recorded")),
                    at_expiry=str(post.get("at_expiry", "")),
                    description=str(post.get("description", ""))[:1000],
                    actor=actor,
                ),
                "Policy saved.",
            )
        if not getattr(request, "retention_error", ""):
            return redirect("retention-policies")
    context = {
        "policies": services.policies(),
        "no_policy": services.categories_without_policy(),
        "categories": Category.objects.order_by("name"),
        "starts": [(s, TRIGGER_KINDS.get(s, "the recording time")) for s in STARTS_FROM],
        "expiries": AT_EXPIRY,
    }
    return _page(request, "retention/policies.html", context)
