"""Mute or bleep words chosen in the transcript (issue 16): the transcripts service turns
them into time ranges with a margin; each becomes an audio range of the project, through
the same editing service (and custody entry) as a range typed in by hand."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from overt.errors import DomainError
from overt.transcripts.redaction_words import word_ranges
from overt.web.client_address import client_of

from . import editing, services
from .views import _done, _problem, _project, _username


@login_required
@require_POST
def words_add(request: HttpRequest, pk: int) -> HttpResponse:
    project = _project(request, pk)
    try:
        chosen = [int(v) for v in request.POST.getlist("word")]
    except ValueError:
        return _problem(request, project, "the chosen words are not word numbers")
    mode = request.POST.get("mode", "mute")
    try:
        found = word_ranges(request.user, project.original_id, chosen, client_of(request))
        for item in found:
            editing.add_audio_range(
                project,
                item.start_s,
                item.end_s,
                mode,
                _username(request),
                note=f"words: {item.words}"[:200],
            )
    except (DomainError, services.RedactionProblem) as exc:
        return _problem(request, project, str(exc))
    return _done(request, project, {"ranges": len(found)}, "#audio")
