"""HTTP plumbing shared by the pages and the API: streamed zips and files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header

from overt.web.streaming import streaming_body

if TYPE_CHECKING:
    from .documents import Download


def zip_response(
    request: HttpRequest, filename: str, chunks: Iterator[bytes], indices: list[int]
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        streaming_body(request, chunks), content_type="application/zip"
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    response["X-Overt-Custody-Entries"] = ",".join(str(i) for i in indices[-50:])
    return response


def file_response(
    request: HttpRequest,
    chunks: Iterator[bytes],
    content_type: str,
    *,
    filename: str = "",
    size: int | None = None,
    index: int | None = None,
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(streaming_body(request, chunks), content_type=content_type)
    if filename:
        response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "no-store"
    if size is not None:
        response["Content-Length"] = str(size)
    if index is not None:
        response["X-Overt-Custody-Entries"] = str(index)
    return response


def download_response(request: HttpRequest, got: Download) -> StreamingHttpResponse:
    """The response for bytes a service handed out (its `download` entry already logged)."""
    return file_response(
        request,
        got.chunks,
        got.content_type,
        filename=got.filename,
        size=got.size,
        index=got.custody_index,
    )
