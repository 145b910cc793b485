"""/media/derivatives/<id>: derivatives streamed from the store, with byte ranges.

Every picture of the footage (the proxy, posters, scrub sprites, clips, stills, redacted
copies) plays only under this session's justification grant for its recording, whose
`view` entries are in every clip's custody history. The library's list pictures are
the unidentifiable thumbnails of thumbnails.py. Only the waveform needs just a login.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from overt.access.services import AccessDenied, Action, check, visible_recordings
from overt.access.viewing import current_grant
from overt.evidence.models import Derivative
from overt.evidence.store import ObjectNotFound, get_store
from overt.web.problems import problem
from overt.web.streaming import streaming_body

from .ranges import ByteRange, RangeNotSatisfiable, parse_range

# Kinds that hold no picture and no words (the waveform is the sound's loudness over
# time): a login is enough. Anything else (the proxy, posters and sprites, which are
# frames of footage, redacted copies, kinds yet to come) needs the justification grant.
NOT_FOOTAGE = frozenset({Derivative.Kind.WAVEFORM})


@require_safe
def derivative_media(request: HttpRequest, derivative_id: int) -> HttpResponseBase:
    if not request.user.is_authenticated:
        return problem(403, "Login required", "Log in to overt to fetch evidence media.")
    derivative = get_object_or_404(
        Derivative.objects.select_related("original__recording").filter(
            original__recording__in=visible_recordings(request.user)
        ),
        pk=derivative_id,
    )
    recording_id = derivative.original.recording_id
    needs_grant = derivative.kind not in NOT_FOOTAGE  # fail closed for new kinds
    action = Action.STREAM if needs_grant else Action.VIEW
    try:
        check(request.user, action, derivative.original.recording)
    except AccessDenied as exc:
        return problem(403, "Not allowed", str(exc), recording=recording_id)
    if needs_grant and current_grant(request, recording_id) is None:
        return problem(
            403,
            "Justification required",
            "Record why you are viewing this recording on its page before playing it.",
            recording=recording_id,
        )

    store = get_store()
    try:
        size = store.size(derivative.sha256)  # fails here, before any header is sent
    except ObjectNotFound:
        return problem(404, "Media missing", f"derivative {derivative.pk} is not in the store")
    etag = f'"{derivative.sha256}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": "inline",
    }
    if etag in _etags(request.headers.get("If-None-Match")):
        return HttpResponse(status=304, headers=headers)

    range_header = request.headers.get("Range")
    if request.headers.get("If-Range", etag) != etag:
        range_header = None  # the client's partial copy is of something else: send it all
    try:
        wanted = parse_range(range_header, size)
    except RangeNotSatisfiable:
        response = problem(416, "Range not satisfiable", f"the object is {size} bytes long")
        for name, value in {"Content-Range": f"bytes */{size}", **headers}.items():
            response.headers[name] = value
        return response

    span = wanted or ByteRange(0, size - 1)
    headers["Content-Type"] = derivative.content_type
    headers["Content-Length"] = str(max(span.length, 0))
    if wanted is not None:
        headers["Content-Range"] = wanted.content_range(size)
    status = 200 if wanted is None else 206
    if request.method == "HEAD" or size == 0:
        return HttpResponse(status=status, headers=headers)
    chunks = store.read_range(derivative.sha256, span.start, span.end + 1)
    return StreamingHttpResponse(streaming_body(request, chunks), status=status, headers=headers)


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}
