"""A recording's page: justify, then the player with its timeline, derivatives and custody."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from overt.access.matrix import Capability
from overt.access.services import (
    AccessDenied,
    Action,
    actions_allowed,
    capability,
    check,
    justification_categories,
    visible_recordings,
)
from overt.access.viewing import GRANT_SECONDS, current_grant, justify_view
from overt.custody.models import CustodyEntry
from overt.evidence.models import Category, Derivative, Original, Recording
from overt.jobs.models import Job
from overt.redaction.models import RedactionProject

from .. import derive
from ..forms import JustificationForm
from ..status import (
    ClipPosition,
    DerivativeStatus,
    clip_position,
    derivative_statuses,
)

# --- a recording ------------------------------------------------------------------------


@dataclass
class ClipView:
    number: int
    original: Original
    statuses: list[DerivativeStatus]
    proxy: Derivative | None
    poster: Derivative | None

    @property
    def player_id(self) -> str:
        return f"player-{self.original.pk}"


@dataclass
class MarkerView:
    text: str
    at: datetime
    created_by: str
    position: ClipPosition | None
    clip: ClipView | None


def require_action(request: HttpRequest, action: Action, recording: Recording) -> None:
    try:
        check(request.user, action, recording)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def recording_page(request: HttpRequest, recording_id: int) -> HttpResponse:
    recording = get_object_or_404(
        visible_recordings(
            request.user, Recording.objects.select_related("officer", "device", "incident")
        ),
        pk=recording_id,
    )
    require_action(request, Action.VIEW, recording)
    status = 200
    if request.method == "POST":
        require_action(request, Action.STREAM, recording)
        form = JustificationForm(request.POST)
        if form.is_valid():
            reason = form.cleaned_data
            justify_view(request, recording, reason["category"], reason["text"])
            # a reload must not re-log; the query (?clip=&t=, from a search hit) is kept
            return redirect(request.get_full_path())
        status = 400
    else:
        form = JustificationForm()
    grant = current_grant(request, recording.pk)
    may = actions_allowed(request.user, recording)
    context: dict[str, Any] = {
        "recording": recording,
        "form": form,
        "grant": grant,
        "grant_hours": GRANT_SECONDS // 3600,
        "reasons": justification_categories(),
        "nav": "library",
        "may_release": bool(may & {Action.DOWNLOAD, Action.EXPORT}),
        "may_manage_access": capability(request.user, Capability.MANAGE_ACCESS),
    }
    if Action.REDACT in may:
        context.update(_redaction_links(recording))
    if grant is not None:
        context.update(_playback_context(request, recording, may))
    return render(request, "review/recording.html", context, status=status)


def _redaction_links(recording: Recording) -> dict[str, Any]:
    """For users who may redact it: the recording's redaction projects to open, and the
    clip to preselect when starting one (the start form is the redaction list's)."""
    projects = RedactionProject.objects.filter(original__recording=recording)
    return {
        "redaction_projects": list(projects.order_by("-created_at", "-id")[:5]),
        "redaction_clip": recording.originals.filter(playable=True)
        .order_by("started_at", "id")
        .first(),
    }


def _playback_context(
    request: HttpRequest, recording: Recording, may: frozenset[Action]
) -> dict[str, Any]:
    originals = list(recording.originals.order_by("started_at", "id"))
    statuses = derivative_statuses(originals)
    clips = []
    for number, original in enumerate(originals, start=1):
        made = {s.kind: s.derivative for s in statuses[original.pk]}
        clips.append(
            ClipView(
                number,
                original,
                statuses[original.pk],
                made.get(Derivative.Kind.PROXY) if original.playable else None,
                made.get(Derivative.Kind.POSTER),
            )
        )
    by_original = {clip.original.pk: clip for clip in clips}
    markers = []
    for marker in recording.markers.order_by("at", "id"):
        position = clip_position(marker, originals)
        clip = by_original[position.original.pk] if position else None
        markers.append(MarkerView(marker.text, marker.at, marker.created_by, position, clip))
    user = request.user
    may_audit = Action.AUDIT in may
    playable = [c for c in clips if c.proxy]
    incident_recordings = (
        visible_recordings(user, recording.incident.recordings.all()).count()
        if recording.incident
        else 0
    )
    return {
        "clips": clips,
        "playable_clips": playable,
        "markers": markers,
        "unplayable": [c for c in clips if not c.original.playable],
        "categories": list(recording.categories.values_list("name", flat=True)),
        "tags": list(recording.tags.values_list("name", flat=True)),
        "all_categories": list(Category.objects.values_list("name", flat=True)),
        "may_edit": Action.EDIT in may,
        "may_cut": Action.EDIT in may,  # clips and stills stay in overt
        "may_audit": may_audit,
        "derived": _derived(originals, by_original),
        "pending": _pending(originals),
        "custody": _custody(originals) if may_audit else [],
        "incident_recordings": incident_recordings,
        "api": {
            "recording": reverse("api-recording", args=[recording.pk]),
            "markers": reverse("api-recording-markers", args=[recording.pk]),
            "clips": reverse("api-recording-clips", args=[recording.pk]),
            "stills": reverse("api-recording-stills", args=[recording.pk]),
            "timeline": reverse("api-recording-timeline", args=[recording.pk]),
            "marker": reverse("api-marker", args=[0]).replace("/0/", "/{id}/"),
            "job": reverse("api-derived-job", args=[0]).replace("/0/", "/{id}/"),
        },
    }


@dataclass
class DerivedView:
    derivative: Derivative
    clip: ClipView

    @property
    def label(self) -> str:
        facts = self.derivative.facts or {}
        return facts.get("label") or (
            f"Clip {self.clip.number}, {_clock(facts.get('in_s'))} to {_clock(facts.get('out_s'))}"
            if self.derivative.kind == Derivative.Kind.CLIP
            else f"Clip {self.clip.number} at {_clock(facts.get('at_s'))}"
        )


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, rest = divmod(float(seconds), 60)
    return f"{int(minutes)}:{rest:06.3f}"


def _derived(originals: list[Original], by_original: dict[int, ClipView]) -> list[DerivedView]:
    made = Derivative.objects.filter(
        original__in=originals, kind__in=[Derivative.Kind.CLIP, Derivative.Kind.STILL]
    ).order_by("-id")
    return [DerivedView(d, by_original[d.original_id]) for d in made]


def _pending(originals: list[Original]) -> list[Job]:
    """Clip and still jobs of these originals that have not finished."""
    prefixes = [
        f"{kind}:original:{o.pk}:"
        for o in originals
        for kind in (derive.CLIP_JOB, derive.STILL_JOB)
    ]
    if not prefixes:
        return []
    jobs = Job.objects.exclude(status=Job.Status.SUCCEEDED).filter(
        kind__in=[derive.CLIP_JOB, derive.STILL_JOB]
    )
    return [j for j in jobs.order_by("-id")[:200] if any(j.key.startswith(p) for p in prefixes)]


@dataclass
class CustodyLine:
    index: int
    at: datetime
    action: str
    actor: str
    summary: str


def _custody(originals: list[Original], limit: int = 200) -> list[CustodyLine]:
    shas = [o.sha256 for o in originals]
    entries = CustodyEntry.objects.filter(object_sha256__in=shas).order_by("-index")[:limit]
    lines = []
    for entry in entries:
        body = json.loads(entry.entry)
        details = body.get("details") or {}
        summary = body.get("justification") or ""
        if entry.action == "derivative-create":
            summary = f"{details.get('kind', '')} {str(details.get('sha256', ''))[:12]}"
        elif "field" in details:
            summary = (
                f"{details['field']}: {details.get('before')!s:.40} → {details.get('after')!s:.40}"
            )
        elif entry.action == "marker-add":
            summary = str(details.get("text", ""))
        actor = body.get("actor") or {}
        lines.append(
            CustodyLine(
                entry.index,
                entry.recorded_at,
                entry.action,
                f"{actor.get('kind')}:{actor.get('id')}",
                summary,
            )
        )
    return lines
