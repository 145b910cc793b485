"""Response bodies that stream from the store under both WSGI and ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest


def streaming_body(
    request: HttpRequest, chunks: Iterator[bytes]
) -> Iterator[bytes] | AsyncIterator[bytes]:
    """The body for a StreamingHttpResponse that really streams under WSGI and ASGI."""
    return async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)  # None: no more (the iterator yields only bytes)


async def async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Under ASGI Django would otherwise read a sync iterator whole into memory."""
    read = sync_to_async(_next_chunk, thread_sensitive=False)
    try:
        while (chunk := await read(chunks)) is not None:
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
