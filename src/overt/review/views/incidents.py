"""An incident's cameras in sync: choose 2 to 4 recordings, one reason, watch together."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from overt.access.services import (
    Action,
    allowed,
    justification_categories,
    visible_recordings,
)
from overt.access.viewing import current_grant, justify_view
from overt.evidence.models import Incident, Recording
from overt.jobs.models import Job

from .. import offsets
from ..forms import JustificationForm
from ..multicam import MAX_PLAYERS
from .recording import require_action

# --- an incident's cameras in sync ---------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def incident_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Choose 2 to 4 of an incident's recordings, give one reason, watch them in sync."""
    incident = get_object_or_404(Incident, pk=incident_id)
    recordings = [
        r
        for r in visible_recordings(
            request.user,
            incident.recordings.select_related("officer", "device").order_by("trigger_on_at", "id"),
        )
        if allowed(request.user, Action.VIEW, r)
    ]
    if not recordings:  # as if it did not exist: nothing of it may be seen
        raise Http404("no such incident")
    status = 200
    form = JustificationForm()
    chosen = _chosen(request.GET.get("play", ""), recordings)
    if request.method == "POST":
        chosen = _chosen(",".join(request.POST.getlist("recording")), recordings)
        form = JustificationForm(request.POST)
        error = None
        if not 2 <= len(chosen) <= MAX_PLAYERS:
            error = f"Choose between 2 and {MAX_PLAYERS} recordings to watch together."
        if error is None and form.is_valid():
            for recording in chosen:
                require_action(request, Action.STREAM, recording)
            reason = form.cleaned_data
            for recording in chosen:
                if current_grant(request, recording.pk) is None:
                    justify_view(request, recording, reason["category"], reason["text"])
            ids = ",".join(str(r.pk) for r in chosen)
            return redirect(f"{reverse('incident', args=[incident.pk])}?{urlencode({'play': ids})}")
        if error:
            form.add_error(None, error)
        status = 400
    playing = [r for r in chosen if current_grant(request, r.pk) is not None]
    context = {
        "sync_state": _sync_state(incident),
        "incident": incident,
        "recordings": [
            (r, current_grant(request, r.pk) is not None, r in chosen) for r in recordings
        ],
        "form": form,
        "reasons": justification_categories(),
        "playing": playing if len(playing) >= 2 else [],
        "max_players": MAX_PLAYERS,
        "sync_api": reverse("api-incident-sync", args=[incident.pk]),
        "play_ids": ",".join(str(r.pk) for r in playing),
        "nav": "library",
    }
    return render(request, "review/incident.html", context, status=status)


def _sync_state(incident: Incident) -> str:
    """Start the audio offset estimate without waiting for anyone to press a button (the
    job is queued once per set of clips: new footage for the incident means a new one),
    and say truthfully where it stands: "none" (no two clips overlap), "estimating", or
    "estimated" (the offsets in use come from the audio, or from a reviewer)."""
    job = offsets.request_estimate(incident)
    if job is None:
        return "none"
    if job.status == Job.Status.SUCCEEDED:
        return "estimated"
    return "failed" if job.status == Job.Status.FAILED else "estimating"


def _chosen(raw: str, recordings: list[Recording]) -> list[Recording]:
    wanted = []
    for part in raw.split(","):
        try:
            wanted.append(int(part))
        except ValueError:
            continue
    by_id = {r.pk: r for r in recordings}
    return [by_id[pk] for pk in dict.fromkeys(wanted) if pk in by_id][: MAX_PLAYERS + 1]
