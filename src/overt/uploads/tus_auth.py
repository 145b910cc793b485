"""Who is uploading to tus: a device (or dock) token as a Bearer credential, or a signed-in
user's session, judged by the site's own middleware exactly as for a page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .asgi_body import db
from .asgi_http import HTTPProblem, Request, Scope
from .errors import NotSignedIn
from .tokens import Principal, device_for_authorization


async def authenticate(request: Request) -> Principal:
    authorization = request.single("authorization")
    if authorization:
        try:
            return await db(device_for_authorization, authorization)
        except NotSignedIn as exc:
            raise _unauthorized(str(exc)) from exc
    if request.header("cookie"):
        origin = request.header("origin")
        if origin and urlsplit(origin).netloc != request.header("host"):
            raise HTTPProblem(403, "cross-origin uploads are not accepted")
        principal = await db(_user_from_session, request.scope)
        if principal is not None:
            return principal
    raise _unauthorized("send Authorization: Bearer <device token>, or sign in to upload")


def _unauthorized(detail: str) -> HTTPProblem:
    return HTTPProblem(401, detail, headers=[("WWW-Authenticate", 'Bearer realm="overt"')])


_SESSION_CHAIN: Any = None


def _user_from_session(scope: Scope) -> Principal | None:
    """The signed-in user of this request's session, judged by Django's own middleware
    (sessions, authentication, second factor, idle and lifetime limits) exactly as for a
    page; None when there is none."""
    global _SESSION_CHAIN
    from io import BytesIO

    from django.conf import settings
    from django.core.exceptions import DisallowedHost
    from django.core.handlers.asgi import ASGIRequest
    from django.http import HttpResponse
    from django.utils.module_loading import import_string

    from .views import may_upload

    if _SESSION_CHAIN is None:
        chain: Any = lambda request: HttpResponse()  # noqa: E731
        for path in reversed(settings.MIDDLEWARE):
            chain = import_string(path)(chain)
        _SESSION_CHAIN = chain
    request = ASGIRequest({**scope, "method": "GET"}, BytesIO())
    try:
        _SESSION_CHAIN(request)
    except DisallowedHost as exc:
        raise HTTPProblem(400, "this host name is not served here") from exc
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not may_upload(user):
        raise HTTPProblem(403, "this account may not upload evidence")
    return Principal("user", user.get_username())
