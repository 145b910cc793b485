"""The oversight pages: the dashboard, its drill-down to attendances and recordings (only
those the viewer may know of), complaints, supervisor review and an officer's own
outcomes. Each page calls the same services as the CLI and the API."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_safe

from overt import errors
from overt.access.identity import standing
from overt.access.matrix import Capability
from overt.access.services import capability, require, visible_recordings
from overt.custody.services import Actor
from overt.evidence.models import Recording

from . import complaints, dashboard, supervision
from .models import Complaint, ReviewItem, Verdict
from .rules import STATUSES


def _actor(request: HttpRequest) -> Actor:
    return Actor("user", request.user.get_username())


def _filters(request: HttpRequest) -> dashboard.Filters:
    return dashboard.Filters(request.GET.get("borough", "")[:100], request.GET.get("month", "")[:7])


@login_required
@require_safe
def dashboard_page(request: HttpRequest) -> HttpResponse:
    require(request.user, Capability.SEE_OVERSIGHT)
    filters = _filters(request)
    snapshot = dashboard.latest()
    by_borough = dashboard.grouped(filters, "borough", snapshot)
    by_month = dashboard.grouped(filters, "month", snapshot)
    drawn = dashboard.charts(filters, by_borough, by_month)
    charts = {k: mark_safe(v) for k, v in drawn.items()}  # noqa: S308  # escaped in svg.py
    context = {
        "nav": "oversight",
        "filters": filters,
        "charts": charts,
        "by_borough": by_borough,
        "by_team": dashboard.grouped(filters, "team", snapshot),
        "catalogue": snapshot.catalogue if snapshot else {},
        "backlog": supervision.backlog(),
        "complaint_figures": complaints.figures(),
        "months": dashboard.months_available(snapshot),
        "boroughs": dashboard.boroughs_available(snapshot),
        "computed_at": snapshot.computed_at if snapshot else None,
        "stale_since": snapshot.stale_since if snapshot else None,
        "stale_reason": snapshot.stale_reason if snapshot else "",
    }
    if request.GET.get("retention") == "1":  # the retention calculation reads every recording
        context["retention_due"] = dashboard.retention_due()
    return render(request, "oversight/dashboard.html", context)


@login_required
@require_safe
def attendances(request: HttpRequest) -> HttpResponse:
    """The attendances behind a bar, and their recordings within the viewer's access."""
    require(request.user, Capability.SEE_OVERSIGHT)
    filters = _filters(request)
    status = request.GET.get("status", "")
    query = filters.verdicts().select_related("attendance__deployment")
    if status in STATUSES:
        query = query.filter(status=status)
    team = request.GET.get("team", "")[:100]
    if team:
        query = query.filter(team=team)
    page = Paginator(query.order_by("attendance__arrived_at", "pk"), 100).get_page(
        request.GET.get("page")
    )
    rows: list[Verdict] = list(page.object_list)
    wanted = {pk for v in rows for pk in v.recordings}
    visible = {
        r.pk: r
        for r in visible_recordings(
            request.user, Recording.objects.filter(pk__in=wanted)
        ).select_related("officer")
    }
    listed = [
        {
            "verdict": v,
            "recordings": [visible[pk] for pk in v.recordings if pk in visible],
            "hidden": sum(1 for pk in v.recordings if pk not in visible),
        }
        for v in rows
    ]
    context = {
        "nav": "oversight",
        "filters": filters,
        "status": status,
        "team": team,
        "rows": listed,
        "page": page,
    }
    return render(request, "oversight/attendances.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def complaints_page(request: HttpRequest) -> HttpResponse:
    require(request.user, Capability.MANAGE_COMPLAINTS)
    problem, status = "", 200
    if request.method == "POST":
        try:
            made = complaints.register(
                complaints.new_complaint(request.POST.dict()), actor=_actor(request)
            )
        except errors.DomainError as exc:
            problem, status = str(exc), exc.status
        else:
            return redirect("oversight-complaint", reference=made.reference)
    context = {
        "nav": "oversight",
        "complaints": Complaint.objects.prefetch_related("links")[:200],
        "figures": complaints.figures(),
        "problem": problem,
        "form": request.POST if request.method == "POST" else {},
    }
    return render(request, "oversight/complaints.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def complaint_page(request: HttpRequest, reference: str) -> HttpResponse:
    require(request.user, Capability.MANAGE_COMPLAINTS)
    complaint = complaints.get(reference)
    problem, status = "", 200
    if request.method == "POST":
        try:
            if "link" in request.POST:
                recording = _int(request.POST.get("recording"))
                # As the API: footage the user may not know of reads as none (no hold).
                if not visible_recordings(request.user).filter(pk=recording).exists():
                    raise errors.NotFound(f"no recording {recording}")
                complaints.link(reference, recording, actor=_actor(request))
            elif "close" in request.POST:
                closed = date.fromisoformat(request.POST.get("closed_on", ""))  # ValueError: 400
                complaints.close(
                    reference,
                    outcome=request.POST.get("outcome", ""),
                    closed_on=closed,
                    actor=_actor(request),
                )
        except (errors.DomainError, ValueError) as exc:
            problem = (
                str(exc) if isinstance(exc, errors.DomainError) else "a date such as 2026-12-01"
            )
            status = exc.status if isinstance(exc, errors.DomainError) else 400
        else:
            return redirect("oversight-complaint", reference=reference)
        complaint = complaints.get(reference)
    linked_ids = list(complaint.links.values_list("recording_id", flat=True))
    context = {
        "nav": "oversight",
        "complaint": complaint,
        "linked": visible_recordings(
            request.user, Recording.objects.filter(pk__in=linked_ids)
        ).select_related("officer"),
        "proposed": [
            r
            for r in complaints.proposed(complaint)
            if visible_recordings(request.user).filter(pk=r.pk).exists()
        ],
        "problem": problem,
    }
    return render(request, "oversight/complaint.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def review_page(request: HttpRequest) -> HttpResponse:
    require(request.user, Capability.SUPERVISOR_REVIEW)
    who = standing(request.user)
    team = (request.GET.get("team") or who.team or "")[:100]
    problem, status = "", 200
    if request.method == "POST":
        try:
            if "draw" in request.POST:
                week = supervision.week_of(date.fromisoformat(request.POST.get("week", "")))
                supervision.check_team(who.team, request.POST.get("team", team))
                supervision.draw(
                    request.POST.get("team", team),
                    week,
                    actor=_actor(request),
                    redraw_reason=request.POST.get("redraw_reason", ""),
                )
                team = request.POST.get("team", team)
            elif "review" in request.POST:
                item = ReviewItem.objects.filter(pk=_int(request.POST.get("item"))).first()
                if (
                    item is None
                    or not visible_recordings(request.user).filter(pk=item.recording_id).exists()
                ):
                    raise errors.NotFound("no such sampled recording")
                supervision.review(
                    item.pk,
                    codes=request.POST.getlist("codes"),
                    note=request.POST.get("note", ""),
                    actor=_actor(request),
                )
        except (errors.DomainError, ValueError) as exc:
            problem = (
                str(exc) if isinstance(exc, errors.DomainError) else "a date such as 2026-11-16"
            )
            status = exc.status if isinstance(exc, errors.DomainError) else 400
        else:
            return redirect(f"{request.path}?team={team}")
    items = supervision.items_for_team(team or None).order_by("-draw__week", "draw_id", "pk")[:200]
    visible = set(
        visible_recordings(
            request.user, Recording.objects.filter(pk__in=[i.recording_id for i in items])
        ).values_list("pk", flat=True)
    )
    context: dict[str, Any] = {
        "nav": "oversight",
        "team": team,
        "items": [i for i in items if i.recording_id in visible],
        "codes": supervision.REASON_CODES,
        "problem": problem,
        "backlog": supervision.backlog(),
        "this_week": supervision.week_of(date.today()).isoformat(),
    }
    return render(request, "oversight/review.html", context, status=status)


@login_required
@require_safe
def my_reviews(request: HttpRequest) -> HttpResponse:
    """An officer's own review outcomes (any signed-in user linked to an officer)."""
    who = standing(request.user)
    context = {
        "nav": "oversight",
        "items": supervision.own_outcomes(who.officer_id),
        "linked": who.officer_id is not None,
        "codes": supervision.REASON_CODES,
        "oversight": capability(request.user, Capability.SEE_OVERSIGHT),
    }
    return render(request, "oversight/my_reviews.html", context)


def _int(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        raise errors.Invalid("choose a recording", field="recording") from None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_page(request: HttpRequest) -> HttpResponse:
    """Publish a month's transparency report and download it (zip)."""
    require(request.user, Capability.PUBLISH_REPORTS)
    from .models import PublishedReport
    from .report import report_zip

    problem, status = "", 200
    if request.method == "POST":
        month = request.POST.get("month", "")[:7]
        try:
            body = report_zip(month, actor=_actor(request))
        except errors.DomainError as exc:
            problem, status = str(exc), exc.status
        else:
            response = HttpResponse(body, content_type="application/zip")
            response["Content-Disposition"] = (
                f'attachment; filename="transparency-report-{month}.zip"'
            )
            return response
    context = {
        "nav": "oversight",
        "problem": problem,
        "published": PublishedReport.objects.all()[:50],
        "months": dashboard.months_available(dashboard.latest()),
    }
    return render(request, "oversight/report.html", context, status=status)
