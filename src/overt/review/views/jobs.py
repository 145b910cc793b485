"""The jobs page: the job queue and recent ingests."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from overt.access.matrix import Capability
from overt.access.services import (
    capability,
    visible_recordings,
)
from overt.evidence.models import Original
from overt.jobs.models import Job

from ..status import (
    job_subject,
)

JOBS_SHOWN = 100
INGESTS_SHOWN = 20


# --- jobs -------------------------------------------------------------------------------


@login_required
@require_safe
def jobs_page(request: HttpRequest) -> HttpResponse:
    if not capability(request.user, Capability.SEE_JOBS):
        raise PermissionDenied("The job list is for evidence managers and administrators.")
    status = request.GET.get("status", "")
    if status not in Job.Status.values:
        status = ""
    jobs = Job.objects.all()
    if status:
        jobs = jobs.filter(status=status)
    shown = list(jobs[:JOBS_SHOWN])
    for job in shown:
        # For the template only: an attribute the Job model does not declare.
        job.subject = job_subject(job)  # type: ignore[attr-defined]
    ingests = list(
        Original.objects.filter(recording__in=visible_recordings(request.user))
        .select_related("recording")
        .only("id", "filename", "ingested_at", "playable", "problem", "size", "recording__title")
        .order_by("-ingested_at", "-id")[:INGESTS_SHOWN]
    )
    context = {
        "jobs": shown,
        "status": status,
        "statuses": Job.Status.choices,
        "limit": JOBS_SHOWN,
        "ingests": ingests,
        "nav": "jobs",
    }
    return render(request, "review/jobs.html", context)
