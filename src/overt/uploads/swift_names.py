"""Swift container and object names must be UTF-8 (the Swift API says so). A name sent
percent-encoded with bytes that are not UTF-8 is refused with 400: the server's own
decoding would otherwise turn them into U+FFFD and store a different, mangled name."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest

from overt.errors import Invalid

BROKEN = "the container or object name in the path is not UTF-8 once percent-decoded"


def check_raw_path(raw_path: bytes | None) -> None:
    """For an ASGI scope's raw_path (percent-encoded bytes, as sent)."""
    if raw_path is None:
        return
    try:
        unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(BROKEN) from exc


def check_request(request: HttpRequest) -> None:
    """For a Django request: under ASGI the scope's raw path; under WSGI the raw request
    target that servers such as gunicorn (RAW_URI) or uWSGI (REQUEST_URI) pass, since
    Django rewrites PATH_INFO with broken bytes percent-encoded again."""
    scope: dict[str, Any] | None = getattr(request, "scope", None)
    if scope is not None:
        check_raw_path(scope.get("raw_path"))
        return
    target = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if target:
        check_raw_path(target.split("?", 1)[0].encode("latin-1", "replace"))
