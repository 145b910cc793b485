"""Error responses for every Django route, and a request id to trace each one.

- RequestIdMiddleware gives each request an id, sent back as X-Request-Id.
- The handlers (handler400/403/404/500 in urls.py, and CSRF_FAILURE_VIEW) answer a browser
  with the site's own page and an API client with problem+json (RFC 9457). /api/ is
  always an API; elsewhere the Accept header decides, and only a client that prefers
  text/html gets a page.
- server_error() logs the traceback with the request id: the id in the body or the page
  is what a user quotes, and it finds the log line. Nothing else in the stack prints it
  when DEBUG is off.
- A domain error (overt.errors) that a view lets through becomes the same answer, with
  the status, title and message its class gives: DomainErrorMiddleware for Django views,
  api_exception_handler for DRF's. The CLI maps the same classes (overt.cli.main).
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable
from typing import Any, cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from overt.errors import DomainError, problem_body
from overt.web.problems import PROBLEM_TYPE, problem, problem_exception_handler
from overt.web.unavailable import DETAIL as DATABASE_DOWN
from overt.web.unavailable import RETRY_AFTER_S, database_unavailable

REQUEST_ID_HEADER = "X-Request-Id"
logger = logging.getLogger("overt.errors")

TITLES = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}
# What the page says; a 404 never hints whether something exists but is hidden.
MESSAGES = {
    400: "The request could not be understood.",
    403: "You may not open this page.",
    404: "There is nothing here, or nothing you may see.",
    405: "This address cannot be used that way (a form sends it, not a link).",
    500: "Something went wrong on our side. The error has been logged.",
}
FALLBACK_PAGE = (
    "<!doctype html><html lang='en-GB'><head><meta charset='utf-8'><title>{title} · overt"
    "</title></head><body><h1>{title}</h1><p>{message}</p><p>Reference: {rid}</p></body></html>"
)


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every response (an error page too) carries the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # request_id is this middleware's own attribute, unknown to HttpRequest's type.
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        if response.status_code == 405 and not response.streaming and not response.content:
            # Django's require_POST & co. answer with an empty body: give it the site's
            # page or a problem, keeping the Allow header.
            allow = response.get("Allow", "")
            response = error_response(request, 405)
            response["Allow"] = allow
        response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]  # as above
        return response


def request_id(request: HttpRequest) -> str:
    rid = getattr(request, "request_id", "")
    if not rid:  # a request that failed before the middleware ran (attribute as above)
        rid = request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]  # as above
    return rid


def wants_html(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return False
    preferred = request.get_preferred_type(["application/problem+json", "text/html"])
    return preferred == "text/html"


def error_response(
    request: HttpRequest, status: int, detail: str = "", title: str = "", **extra: Any
) -> HttpResponse:
    """The error, as a page or as problem+json, with the request id in it."""
    rid = request_id(request)
    title = title or TITLES.get(status, "Error")
    message = detail or MESSAGES.get(status, "")
    if not wants_html(request):
        response: HttpResponse = problem(status, title, message, **extra, request_id=rid)
    else:
        context = {"status": status, "title": title, "message": message, "request_id": rid}
        try:
            page: str = render_to_string("errors/error.html", context, request=request)
        except Exception:  # the page itself failed (a broken database): a plain one
            logger.exception("error page failed to render [request %s]", rid)
            page = FALLBACK_PAGE.format(title=title, message=message, rid=rid)
        response = HttpResponse(page, status=status)
    response[REQUEST_ID_HEADER] = rid
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # PermissionDenied messages in overt are written for the user; show them.
    return error_response(request, 403, str(exception or "") or MESSAGES[403])


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block, so the exception is still current.
    if database_unavailable(sys.exc_info()[1]):
        logger.warning(
            "database unavailable [request %s]: %s", request_id(request), sys.exc_info()[1]
        )
        response = error_response(request, 503, DATABASE_DOWN, "Service Unavailable")
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    logger.error(
        "unhandled exception [request %s] %s %s",
        request_id(request),
        request.method,
        request.get_full_path()[:500],
        exc_info=sys.exc_info(),
    )
    return error_response(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        request,
        403,
        "The form was out of date or came from another site (CSRF check failed). Go back, "
        "reload the page and try again.",
    )


def domain_error_response(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """A domain error as its page or problem+json: the one mapping for the web and API."""
    body = problem_body(exc)
    status, title, detail = body.pop("status"), body.pop("title"), body.pop("detail")
    return error_response(request, status, detail, title, **body)


class DomainErrorMiddleware:
    """Answers a domain error that a Django view let through (DRF views have theirs)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DomainError):
            return domain_error_response(request, exception)
        return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    """DRF's exception handler: domain errors by the one mapping, the rest (DRF's own
    errors, the store's 507) as problem+json by overt.web.problems."""
    from overt.evidence.store import InsufficientSpace

    if isinstance(exc, DomainError) and not isinstance(exc, InsufficientSpace):
        from rest_framework.views import set_rollback

        set_rollback()  # as DRF does for its own errors: nothing half-written stays
        request = context.get("request")
        # DRF always passes its Request, which wraps Django's.
        django_request = cast(HttpRequest, getattr(request, "_request", request))
        return domain_error_response(django_request, exc)
    response = problem_exception_handler(exc, context)
    if response is None:
        return None
    # A plain JSON response, not DRF's: the browsable API would otherwise render its HTML
    # page under the problem+json type for a browser, and the body names the request id
    # as every other error does.
    request = context.get("request")
    body = dict(response.data)
    body["request_id"] = request_id(cast(HttpRequest, getattr(request, "_request", request)))
    plain = JsonResponse(body, status=response.status_code, content_type=PROBLEM_TYPE)
    for name, value in response.headers.items():  # WWW-Authenticate, Retry-After, Allow
        if name.lower() != "content-type":
            plain[name] = value
    return plain
