"""The Swift calls of the Axis Body Worn Integration API that carry no footage: auth,
account and container requests, and object POST/HEAD/GET. (Object PUT streams through
`overt.uploads.swift_put`.)"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from overt.errors import DomainError
from overt.web.problems import problem
from overt.web.streaming import streaming_body

from . import swift_names, swift_read
from .asgi_http import HTTPProblem, as_problem
from .axis import containers, metadata, objects, protocol

View = Callable[..., HttpResponseBase]
log = logging.getLogger(__name__)


def _answer(exc: HTTPProblem | DomainError) -> HttpResponse:
    """A refusal as the Swift client reads it: problem+json with the protocol's headers
    (no request id, no HTML page), a domain error by the same mapping as the ASGI edges."""
    exc = as_problem(exc)
    response = problem(exc.status, exc.title, exc.detail, **exc.extra)
    for name, value in exc.headers:
        response[name] = value
    return response


def _swift(view: View) -> View:
    """Token check (except for auth) and problem responses for every Swift view."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        try:
            swift_names.check_request(request)
            if "account" in kwargs:
                token = request.headers.get("X-Auth-Token") or request.headers.get(
                    "X-Storage-Token"
                )
                protocol.check_token(token, str(kwargs["account"]))
            return view(request, *args, **kwargs)
        except (HTTPProblem, DomainError) as exc:
            return _answer(exc)
        except Exception:
            # The Swift client gets the protocol's error form, never an HTML page; an open
            # recording stays open, so its retry completes it.
            log.exception("Swift %s %s failed", request.method, request.path)
            return _answer(HTTPProblem(500, "the server failed; retry the request"))

    return wrapper


def _headers(request: HttpRequest) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


def _not_allowed(allowed: str) -> HttpResponse:
    return _answer(HTTPProblem(405, "method not allowed here", headers=[("Allow", allowed)]))


@_swift
def auth_v1(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return _not_allowed("GET")
    headers = request.headers
    user = headers.get("X-Auth-User") or headers.get("X-Storage-User")
    key = headers.get("X-Auth-Key") or headers.get("X-Storage-Pass") or headers.get("Auth-Key")
    token = protocol.authenticate(user, key)
    response = HttpResponse(status=200)
    response["X-Auth-Token"] = token
    response["X-Storage-Token"] = token
    response["X-Storage-Url"] = request.build_absolute_uri(f"/swift/v1/{protocol.account_name()}")
    response["X-Auth-Token-Expires"] = str(protocol.TOKEN_TTL_S)
    response["Cache-Control"] = "no-store"
    return response


@_swift
def account(request: HttpRequest, account: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD")
    rows = containers.list_containers()
    response = _listing(request, rows)
    response["X-Account-Container-Count"] = str(len(rows))
    response["X-Account-Object-Count"] = str(sum(r["count"] for r in rows))
    response["X-Account-Bytes-Used"] = str(sum(r["bytes"] for r in rows))
    return response


@_swift
def container(request: HttpRequest, account: str, container: str) -> HttpResponse:
    method = request.method
    if method == "PUT":
        meta = metadata.parse_meta(_headers(request), "x-container-meta-")
        return HttpResponse(status=containers.put_container(container, meta))
    if method == "POST":
        meta = metadata.parse_meta(_headers(request), "x-container-meta-")
        return HttpResponse(status=containers.post_container(container, meta))
    if method in ("GET", "HEAD"):
        found = containers.get_container(protocol.container_name(container))
        rows = containers.list_objects(found.name)
        response = _listing(request, rows) if method == "GET" else HttpResponse(status=204)
        for name, value in metadata.meta_headers(found.metadata, "X-Container-Meta-"):
            response[name] = value
        response["X-Container-Object-Count"] = str(len(rows))
        response["X-Container-Bytes-Used"] = str(sum(r["bytes"] for r in rows))
        return response
    if method == "DELETE":
        raise HTTPProblem(403, "containers of evidence cannot be deleted")
    return _not_allowed("GET, HEAD, PUT, POST")


@_swift
def obj(request: HttpRequest, account: str, container: str, name: str) -> HttpResponseBase:
    method = request.method
    if method == "PUT":
        raise HTTPProblem(
            501,
            "object uploads stream through `overt serve` (its ASGI front); this server "
            "path cannot take them",
        )
    if method == "POST":
        meta = metadata.parse_meta(_headers(request), "x-object-meta-")
        return HttpResponse(status=objects.post_object(container, protocol.object_name(name), meta))
    if method in ("GET", "HEAD"):
        if method == "GET":  # a read of footage: logged, and refused once access changed
            found = swift_read.read_clip(request, container, protocol.object_name(name))
        else:
            found = objects.get_object(container, protocol.object_name(name))
        meta, md5, body, content_type = found
        response: HttpResponseBase
        if isinstance(body, protocol.Stream):
            size = body.size
            if method == "GET":
                # Chunk by chunk from the staged file or the store (S3 included); under
                # ASGI a sync iterator would be read whole into memory, so wrap it.
                stream = streaming_body(request, body.open())
                response = StreamingHttpResponse(stream, content_type=content_type)
            else:
                response = HttpResponse(content_type=content_type)
        else:
            size = len(body)
            response = HttpResponse(body if method == "GET" else b"", content_type=content_type)
        response["Content-Length"] = str(size)
        response["ETag"] = md5
        response["Accept-Ranges"] = "bytes"
        for header, value in metadata.meta_headers(meta, "X-Object-Meta-"):
            response[header] = value
        return response
    if method == "DELETE":
        raise HTTPProblem(403, "evidence cannot be deleted")
    return _not_allowed("GET, HEAD, PUT, POST")


def _listing(request: HttpRequest, rows: list[dict[str, Any]]) -> HttpResponse:
    if request.GET.get("format") == "json" or "json" in request.headers.get("Accept", ""):
        return HttpResponse(json.dumps(rows), content_type="application/json; charset=utf-8")
    text = "".join(f"{row['name']}\n" for row in rows)
    return HttpResponse(text, content_type="text/plain; charset=utf-8", status=200 if rows else 204)
