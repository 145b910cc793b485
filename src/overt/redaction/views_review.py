"""Project-page actions added for fast review (issue 15): give the viewing reason on the
project page itself, include / leave out / merge several tracks at once, and the leak
check's findings (thumbnail, "not a face", "fix")."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST, require_safe

from overt.access.justify import JustificationError
from overt.access.services import AccessDenied, Action, check
from overt.access.viewing import justify_view

from . import bulk, leaks, services
from .models import LeakFinding
from .views import _done, _problem, _project, _username


def _numbers(request: HttpRequest) -> list[int]:
    try:
        return [int(n) for n in request.POST.getlist("tracks")]
    except ValueError:
        raise services.RedactionProblem("track numbers must be whole numbers") from None


@login_required
@require_POST
def view_reason(request: HttpRequest, pk: int) -> HttpResponse:
    """Record why the reviewer views the footage, here, then show it on this page."""
    project = _project(request, pk)
    recording = project.original.recording
    try:
        check(request.user, Action.STREAM, recording)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    try:
        justify_view(
            request, recording, request.POST.get("category", ""), request.POST.get("text", "")
        )
    except JustificationError as exc:
        return _problem(request, project, f"Your reason was not recorded: {exc}")
    return _done(request, project, anchor="#stage")


@login_required
@require_POST
def tracks_bulk(request: HttpRequest, pk: int) -> HttpResponse:
    """Mask, leave out or merge the ticked tracks (`action` = mask | leave-out | merge)."""
    project = _project(request, pk)
    action = request.POST.get("action", "")
    try:
        numbers = _numbers(request)
        if action == "merge":
            kept = bulk.merge_tracks(project, numbers, _username(request))
            return _done(request, project, {"track": kept.number}, f"#track-{kept.number}")
        if action not in ("mask", "leave-out"):
            raise services.RedactionProblem("choose mask, leave out or merge")
        changed = bulk.set_included_many(project, numbers, action == "mask", _username(request))
    except services.RedactionProblem as exc:
        return _problem(request, project, str(exc))
    return _done(request, project, {"tracks": changed}, "#tracks")


def _finding(request: HttpRequest, pk: int, render: int, number: int) -> LeakFinding:
    project = _project(request, pk)
    return get_object_or_404(
        LeakFinding.objects.select_related("render__project", "render__derivative"),
        render__project=project,
        render__number=render,
        number=number,
    )


@login_required
@require_safe
def finding_thumbnail(request: HttpRequest, pk: int, render: int, number: int) -> HttpResponse:
    finding = _finding(request, pk, render, number)
    if not finding.thumbnail:
        raise Http404("no thumbnail")
    response = HttpResponse(bytes(finding.thumbnail), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=600"
    return response


@login_required
@require_POST
def finding_decide(request: HttpRequest, pk: int, render: int, number: int) -> HttpResponse:
    finding = _finding(request, pk, render, number)
    project = finding.render.project
    try:
        decided = leaks.decide(
            finding,
            request.POST.get("decision", ""),
            _username(request),
            note=request.POST.get("note", ""),
        )
    except services.RedactionProblem as exc:
        return _problem(request, project, str(exc))
    return _done(
        request,
        project,
        {"status": decided.status, "releasable": not leaks.blockers(decided.render)},
        f"#render-{render}",
    )
