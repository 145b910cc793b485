"""The camera agent's own API (issue 13; docs/camera.md): enrolment, segment manifests and
the peer keys, as JSON, with problem+json for every refusal. Enrolment needs no
credential (the one-time code is it); the rest take the device token
(`Authorization: Bearer <token>`) that enrolment gave, as tus does."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from overt.errors import DomainError, Invalid, TooLarge
from overt.web.client_address import client_of
from overt.web.problems import domain_problem_fields, problem
from overt.web.unavailable import DETAIL as DATABASE_DOWN
from overt.web.unavailable import RETRY_AFTER_S, database_unavailable

from . import enrolment, manifests
from .errors import NotSignedIn
from .tokens import Principal, device_for_authorization

log = logging.getLogger(__name__)
View = Callable[..., HttpResponseBase]


def _device_api(*methods: str, token: bool = True) -> Callable[[View], View]:
    """Method check, device token (unless `token` is False) and problem+json answers."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            rid = {"request_id": getattr(request, "request_id", "")}  # the site's middleware
            if request.method not in methods:
                response = problem(405, "Method Not Allowed", f"use {' or '.join(methods)}", **rid)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                if token:
                    kwargs["principal"] = _principal(request)
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return _problem(exc, rid)
            except Exception as exc:
                if database_unavailable(exc):  # restarting or overloaded: come back, not a 500
                    log.warning(
                        "device API %s %s: database unavailable (%s)",
                        request.method,
                        request.path,
                        rid,
                    )
                    answer = problem(503, "Service Unavailable", DATABASE_DOWN, **rid)
                    answer["Retry-After"] = str(RETRY_AFTER_S)
                    return answer
                log.exception("device API %s %s failed (%s)", request.method, request.path, rid)
                return problem(500, "Internal Server Error", "the server failed; retry", **rid)

        return wrapper

    return decorate


def _problem(exc: DomainError, rid: dict[str, str]) -> HttpResponse:
    fields = {**domain_problem_fields(exc), **rid}
    status, title = fields.pop("status"), fields.pop("title")
    response = problem(status, title, fields.pop("detail", ""), **fields)
    if isinstance(exc, NotSignedIn):
        response["WWW-Authenticate"] = 'Bearer realm="overt"'
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _principal(request: HttpRequest) -> Principal:
    return device_for_authorization(request.headers.get("Authorization", ""))


def _json_body(request: HttpRequest, limit: int) -> Any:
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError as exc:
        raise Invalid("Content-Length is not a number") from exc
    if length > limit:
        raise TooLarge(f"the body is over {limit} bytes")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise TooLarge(f"the body is over {limit} bytes")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Invalid(f"the body is not JSON: {exc}") from exc


@_device_api("POST", token=False)
def enrol(request: HttpRequest) -> HttpResponseBase:
    body = _json_body(request, 16 * 1024)
    enrolled = enrolment.enrol(body, client_of(request))
    return JsonResponse(enrolled.to_json(), status=201)


@_device_api("POST")
def manifest_create(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    body = _json_body(request, manifests.MAX_BODY_BYTES)
    received = manifests.receive(principal, body, client_of(request))
    return JsonResponse(received.to_json(), status=201 if received.created else 200)


@_device_api("GET")
def manifest_detail(request: HttpRequest, sha256: str, principal: Principal) -> HttpResponseBase:
    return JsonResponse(manifests.status(principal, sha256))


@_device_api("GET")
def peers(request: HttpRequest, principal: Principal) -> HttpResponseBase:
    assert principal.token is not None
    with transaction.atomic():
        found = enrolment.peers_for(principal.token.device)
    return JsonResponse({"peers": found})
