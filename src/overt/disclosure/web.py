"""HTTP plumbing shared by the page and the API: a release becomes a streamed attachment."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header

from overt.web.streaming import streaming_body

from .services import Release


def attachment(request: HttpRequest, release: Release) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        streaming_body(request, release.chunks), content_type=release.content_type
    )
    response["Content-Disposition"] = content_disposition_header(True, release.filename)
    response["Cache-Control"] = "no-store"  # evidence must not linger in shared caches
    response["X-Overt-Custody-Entries"] = ",".join(str(i) for i in release.custody_indices)
    if release.size is not None:
        response["Content-Length"] = str(release.size)
    if digest := release.repr_digest():
        response["Repr-Digest"] = digest
        response["ETag"] = f'"{release.sha256}"'
    return response
