"""Reviewer pages for redaction projects: list and start, then review one project.

Plain forms do everything (include/leave out, keyframes by numbers, audio ranges,
render); `static/redaction/project.js` adds the overlay on the player where boxes are
drawn and dragged, posting to the same endpoints with fetch.
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from overt.access.justify import categories
from overt.access.services import AccessDenied, Action, allowed, check, permitted
from overt.access.viewing import current_grant
from overt.evidence.models import Derivative, Original, Recording
from overt.jobs.models import Job

from . import editing, leaks, rendering, services
from .models import AudioRange, Box, RedactionProject, Render, Track

ORIGINALS_SHOWN = 200


def _project(request: HttpRequest, pk: int) -> RedactionProject:
    project = get_object_or_404(
        RedactionProject.objects.select_related("original__recording__officer"), pk=pk
    )
    _allow(request, project.original.recording)
    return project


def _allow(request: HttpRequest, recording: Recording) -> None:
    """The access service decides and logs its refusal: 404, as for no such project or
    original, to whoever may not know the recording exists; else 403 with its reason."""
    try:
        check(request.user, Action.REDACT, recording)
    except AccessDenied as exc:
        if not allowed(request.user, Action.LIST, recording):
            raise Http404("no such redaction project or original") from exc
        raise PermissionDenied(str(exc)) from exc


def _username(request: HttpRequest) -> str:
    return request.user.get_username()


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _done(
    request: HttpRequest, project: RedactionProject, payload: dict | None = None, anchor: str = ""
) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": True, **(payload or {})})
    return redirect(reverse("redaction-project", args=[project.pk]) + anchor)


def _problem(request: HttpRequest, project: RedactionProject, message: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": False, "error": message}, status=400)
    return render(
        request,
        "redaction/project.html",
        {**_project_context(request, project), "error": message},
        status=400,
    )


def _float(value: str | None, name: str) -> float:
    try:
        return float(value or "")
    except ValueError:
        raise services.RedactionProblem(f"{name} must be a number") from None


# --- list and start -------------------------------------------------------------------


@login_required
@require_safe
def project_list(request: HttpRequest) -> HttpResponse:
    may_redact = permitted(request.user, Action.REDACT)  # never list what one may not redact
    projects = (
        RedactionProject.objects.filter(original__recording__in=may_redact)
        .select_related("original__recording")
        .annotate(
            track_count=Count("tracks", distinct=True),
            included_count=Count("tracks", filter=Q(tracks__included=True), distinct=True),
        )
        .order_by("-created_at")[:100]
    )
    redactable = Original.objects.filter(playable=True, recording__in=may_redact).select_related(
        "recording__officer"
    )
    originals = list(redactable.order_by("-ingested_at")[:ORIGINALS_SHOWN])
    chosen = request.GET.get("original")
    shown = {str(o.pk) for o in originals}
    if chosen and re.fullmatch(r"[0-9]{1,18}", chosen) and chosen not in shown:
        # Chosen on a recording's page, older than the newest shown: offer it all the same.
        originals[:0] = redactable.filter(pk=int(chosen))
    return render(
        request,
        "redaction/list.html",
        {"projects": projects, "originals": originals, "chosen": chosen, "nav": "redaction"},
    )


@login_required
@require_POST
def project_create(request: HttpRequest) -> HttpResponse:
    original = get_object_or_404(Original, pk=request.POST.get("original") or 0)
    _allow(request, original.recording)
    mode = request.POST.get("mode", "blur")
    if mode not in RedactionProject.Mode.values:
        mode = "blur"
    try:
        project = services.create_project(
            original,
            _username(request),
            title=request.POST.get("title", "")[:200],
            mode=mode,
            plates=request.POST.get("plates") == "on",
        )
    except services.RedactionProblem as exc:
        return render(
            request,
            "redaction/list.html",
            {"projects": [], "originals": [original], "error": str(exc), "nav": "redaction"},
            status=400,
        )
    return redirect("redaction-project", project.pk)


# --- one project ----------------------------------------------------------------------


def _jobs(project: RedactionProject) -> list[Job]:
    return list(
        Job.objects.filter(
            Q(key__startswith=f"redaction.detect:redaction:{project.pk}:")
            | Q(key__startswith=f"redaction.render:redaction:{project.pk}:")
        ).order_by("-id")
    )


def _renders(project: RedactionProject) -> list[Render]:
    """Copies, newest first, each with its leak findings and what blocks its release."""
    renders = list(
        project.renders.select_related("derivative")
        .prefetch_related("leak_findings")
        .order_by("-number")
    )
    for item in renders:
        item.blockers = leaks.blockers(item)  # type: ignore[attr-defined]
    return renders


def _project_context(request: HttpRequest, project: RedactionProject) -> dict:
    original = project.original
    proxy = original.derivatives.filter(kind=Derivative.Kind.PROXY).first()
    tracks = list(project.tracks.annotate(box_count=Count("boxes")).order_by("start_s", "number"))
    return {
        "project": project,
        "original": original,
        "recording": original.recording,
        "proxy": proxy,
        "grant": current_grant(request, original.recording_id),
        "tracks": tracks,
        "audio_ranges": list(project.audio_ranges.all()),
        "renders": _renders(project),
        "reasons": categories(),
        "jobs": _jobs(project)[:6],
        "modes": RedactionProject.Mode.choices,
        "nav": "redaction",
    }


@login_required
@require_safe
def project_page(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    return render(request, "redaction/project.html", _project_context(request, project))


@login_required
@require_safe
def project_data(request: HttpRequest, pk: int) -> JsonResponse:
    """Tracks and their boxes, for the overlay; status and jobs, for the progress line."""
    project = _project(request, pk)
    boxes: dict[int, list[dict]] = {}
    for b in Box.objects.filter(track__project=project).order_by("track_id", "t"):
        boxes.setdefault(b.track_id, []).append(
            {"id": b.pk, "t": b.t, "box": [b.x1, b.y1, b.x2, b.y2], "manual": b.manual}
        )
    return JsonResponse(
        {
            "status": project.status,
            "duration_s": project.duration_s,
            "margin": project.margin,
            "width": project.width,
            "height": project.height,
            "jobs": [
                {"kind": j.kind, "status": j.status, "progress": j.progress, "message": j.message}
                for j in _jobs(project)
            ],
            "tracks": [
                {
                    "number": t.number,
                    "label": t.label,
                    "included": t.included,
                    "start_s": t.start_s,
                    "end_s": t.end_s,
                    "boxes": boxes.get(t.pk, []),
                }
                for t in project.tracks.all()
            ],
            "unmasked": leaks.unmasked_moments(project),
        }
    )


@login_required
@require_safe
def track_thumbnail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    project = _project(request, pk)
    track = get_object_or_404(Track, project=project, number=number)
    if not track.thumbnail:
        raise Http404("no thumbnail")
    response = HttpResponse(bytes(track.thumbnail), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=600"
    return response


@login_required
@require_POST
def track_include(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    project = _project(request, pk)
    track = get_object_or_404(Track, project=project, number=number)
    included = request.POST.get("included") == "1"
    editing.set_included(track, included, _username(request))
    return _done(request, project, {"included": included}, f"#track-{number}")


@login_required
@require_POST
def track_keyframe(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    project = _project(request, pk)
    track = get_object_or_404(Track, project=project, number=number)
    try:
        x1, y1, x2, y2 = (_float(request.POST.get(k), k) for k in ("x1", "y1", "x2", "y2"))
        box = (x1, y1, x2, y2)
        keyframe = editing.set_keyframe(
            track,
            _float(request.POST.get("t"), "time"),
            box,
            _username(request),
        )
    except services.RedactionProblem as exc:
        return _problem(request, project, str(exc))
    return _done(request, project, {"keyframe": keyframe.pk}, f"#track-{number}")


@login_required
@require_POST
def keyframe_delete(request: HttpRequest, pk: int, box_id: int) -> HttpResponse:
    project = _project(request, pk)
    keyframe = get_object_or_404(Box, pk=box_id, track__project=project)
    try:
        editing.delete_keyframe(keyframe, _username(request))
    except services.RedactionProblem as exc:
        return _problem(request, project, str(exc))
    return _done(request, project)


@login_required
@require_POST
def track_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    try:
        x1, y1, x2, y2 = (_float(request.POST.get(k), k) for k in ("x1", "y1", "x2", "y2"))
        box = (x1, y1, x2, y2)
        track = editing.add_manual_track(
            project,
            _float(request.POST.get("t"), "time"),
            box,
            _username(request),
        )
    except services.RedactionProblem as exc:
        return _problem(request, project, str(exc))
    return _done(request, project, {"track": track.number}, f"#track-{track.number}")


@login_required
@require_POST
def audio_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    try:
        editing.add_audio_range(
            project,
            _float(request.POST.get("start_s"), "start"),
            _float(request.POST.get("end_s"), "end"),
            request.POST.get("mode", "mute"),
            _username(request),
            note=request.POST.get("note", "")[:200],
        )
    except services.RedactionProblem as exc:
        return _problem(request, project, str(exc))
    return _done(request, project, anchor="#audio")


@login_required
@require_POST
def audio_remove(request: HttpRequest, pk: int, range_id: int) -> HttpResponse:
    project = _project(request, pk)
    item = get_object_or_404(AudioRange, pk=range_id, project=project)
    editing.remove_audio_range(item, _username(request))
    return _done(request, project, anchor="#audio")


@login_required
@require_POST
def render_request(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    try:
        rendering.request_render(project, _username(request))
    except services.RedactionProblem as exc:
        return _problem(request, project, str(exc))
    return _done(request, project, anchor="#renders")
