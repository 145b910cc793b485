"""The player's transcript: WebVTT captions for the <video>, and the words for the panel.

Both are the footage's content, so they need what playing it needs: STREAM on the
recording and this session's justification grant for it (as review.media does).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views.decorators.http import require_safe

from overt.access.services import AccessDenied
from overt.access.viewing import current_grant
from overt.errors import NotFound
from overt.web.client_address import client_of
from overt.web.problems import problem

from . import services
from .captions import webvtt
from .models import TranscriptVersion


def _version(request: HttpRequest, original_id: int) -> TranscriptVersion | HttpResponseBase:
    if not request.user.is_authenticated:
        return problem(403, "Login required", "Log in to overt to read transcripts.")
    try:
        version = services.read(request.user, original_id, client_of(request))
    except AccessDenied as exc:
        return problem(403, "Not allowed", str(exc))
    except NotFound as exc:
        return problem(404, "Not Found", str(exc))
    recording_id = version.original.recording_id
    if current_grant(request, recording_id) is None:
        return problem(
            403,
            "Justification required",
            "Record why you are viewing this recording on its page before reading its words.",
            recording=recording_id,
        )
    return version


@require_safe
def captions(request: HttpRequest, original_id: int) -> HttpResponseBase:
    version = _version(request, original_id)
    if not isinstance(version, TranscriptVersion):
        return version
    note = f"overt transcript v{version.number} of original {original_id} ({version.status})"
    body = webvtt(services.timed_words(version), note=note)
    return HttpResponse(
        body,
        content_type="text/vtt; charset=utf-8",
        headers={"Cache-Control": "private, no-cache", "Content-Disposition": "inline"},
    )


@require_safe
def words(request: HttpRequest, original_id: int) -> HttpResponseBase:
    version = _version(request, original_id)
    if not isinstance(version, TranscriptVersion):
        return version
    return JsonResponse(services.describe(version), headers={"Cache-Control": "private, no-cache"})
