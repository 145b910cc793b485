"""The evidence manager's retention page and deletion certificate downloads."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from overt.web.problems import problem

from . import certificates, clock, services
from .models import DeletionCertificate, DeletionRequest, Disposal
from .pressure import disk_pressure


def _may_manage(request: HttpRequest) -> HttpResponse | None:
    """The retention pages are for roles with the manage-retention capability.

    A refusal is raised, not returned, so that the site's 403 handler answers a browser
    with a page and an API client with problem+json."""
    from overt.access.matrix import Capability
    from overt.access.services import capability

    if capability(request.user, Capability.MANAGE_RETENTION):
        return None
    raise PermissionDenied("Retention pages need the manage-retention capability.")


@login_required
@require_safe
def upcoming_page(request: HttpRequest) -> HttpResponse:
    if (refused := _may_manage(request)) is not None:
        return refused
    now = clock.now()
    rows = services.upcoming(now, days=30)
    soon = now + timedelta(days=7)
    week = [r for r in rows if r.date <= soon]
    month = [r for r in rows if r.date > soon]
    context = {
        "nav": "retention",
        "now": now,
        "week": week,
        "month": month,
        "recycled": Disposal.objects.filter(status__in=services.OPEN).order_by("purge_after"),
        "review_due": services.review_due(now),
        "uncategorised": services.uncategorised(now),
        "requests": DeletionRequest.objects.filter(
            status=DeletionRequest.Status.PENDING
        ).select_related("requested_by"),
        "certificates": DeletionCertificate.objects.all()[:20],
        "policies": services.policies(),
        "no_policy": services.categories_without_policy(),
        "pressure": disk_pressure(),
        "recycle_days": services.recycle_window().days,
    }
    return render(request, "retention/upcoming.html", context)


@login_required
@require_safe
def certificate_json(request: HttpRequest, number: str) -> HttpResponse:
    if (refused := _may_manage(request)) is not None:
        return refused
    try:
        cert = certificates.find(number)
    except certificates.CertificateError as exc:
        return problem(404, "Not Found", str(exc))
    response = HttpResponse(cert.body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{cert.number}.json"'
    return response


@login_required
@require_safe
def certificate_pdf(request: HttpRequest, number: str) -> HttpResponse:
    if (refused := _may_manage(request)) is not None:
        return refused
    try:
        cert = certificates.find(number)
        pdf, why = certificates.pdf_bytes(cert)
    except certificates.CertificateError as exc:
        status = 404 if isinstance(exc, certificates.CertificateNotFound) else 503
        return problem(status, "Not Available", str(exc))
    if pdf is None:
        return problem(503, "PDF unavailable", why)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{cert.number}.pdf"'
    return response


@login_required
@require_safe
def upcoming_json(request: HttpRequest) -> HttpResponse:
    if (refused := _may_manage(request)) is not None:
        return refused
    days = request.GET.get("days", "30")
    if not days.isdigit() or not 1 <= int(days) <= 3660:
        return problem(400, "Bad Request", "days must be a whole number from 1 to 3660")
    rows = services.upcoming(clock.now(), days=int(days))
    return JsonResponse({"upcoming": [row.to_json() for row in rows]})
