"""Small helpers for the raw ASGI handlers: one request's headers, and responses with a
JSON problem body (RFC 9457), built by `overt.web.problems` as for every Django route.

This is the HTTP edge of the uploads stage: HTTPProblem (a status, its headers and a
body) is raised only by the edge modules. The services raise domain errors
(overt.errors, overt.uploads.errors), which `as_problem` maps here."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from overt.errors import DomainError
from overt.web.problems import PROBLEM_TYPE, domain_problem_fields, problem_fields

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
# A server's send takes any mapping (Django's handler sends its own message types).
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATUS_TITLES = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    423: "Locked",
    460: "Checksum Mismatch",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    507: "Insufficient Storage",
}


class HTTPProblem(Exception):
    """Raised inside a handler to answer with a status, extra headers and a problem body."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        title: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = list(headers)
        self.title = title or STATUS_TITLES.get(status, "Error")
        self.extra = extra


@dataclass
class Request:
    scope: Scope
    receive: Receive
    send: Send
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    duplicate_headers: set[str] = field(default_factory=set)

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive, send: Send) -> Request:
        headers: dict[str, str] = {}
        duplicates: set[str] = set()
        for raw_name, raw_value in scope.get("headers", []):
            name = raw_name.decode("latin-1").lower()
            # RFC 9110 5.5: a field value excludes leading and trailing whitespace
            # (SP, HTAB), so `Tus-Resumable: 1.0.0 ` is 1.0.0.
            value = raw_value.decode("latin-1").strip(" \t")
            if name in headers:
                duplicates.add(name)
                if name == "cookie":
                    headers[name] += "; " + value
                continue
            headers[name] = value
        path = scope.get("path") or unquote(scope.get("raw_path", b"/").decode("latin-1"))
        return cls(scope, receive, send, scope["method"].upper(), path, headers, duplicates)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def single(self, name: str) -> str | None:
        """A header that must appear at most once (tus headers): a repeat is refused."""
        if name in self.duplicate_headers:
            raise HTTPProblem(400, f"the {name} header appears more than once")
        return self.headers.get(name)

    @property
    def client_address(self) -> str:
        from overt.web.client_address import client_address  # one rule for all routes

        client = self.scope.get("client")
        forwarded = self.header("x-forwarded-for") or ""
        return client_address(
            {"REMOTE_ADDR": str(client[0]) if client else "", "HTTP_X_FORWARDED_FOR": forwarded}
        )

    @property
    def content_length(self) -> int | None:
        raw = self.single("content-length")
        if raw is None:
            return None
        if not raw.isdigit() or len(raw) > 20:
            raise HTTPProblem(400, f"Content-Length is not a byte count: {raw!r}")
        return int(raw)

    @property
    def has_body(self) -> bool:
        length = self.content_length
        if length is not None:
            return length > 0
        return "chunked" in (self.header("transfer-encoding") or "").lower()


def as_problem(exc: DomainError | HTTPProblem) -> HTTPProblem:
    """A domain error as the edge's answer: status, title, message and body members as
    its class gives them (the mapping the Django edge uses), and Retry-After when the
    error says when to try again."""
    if isinstance(exc, HTTPProblem):
        return exc
    fields = domain_problem_fields(exc)
    status, title = fields.pop("status"), fields.pop("title")
    detail = fields.pop("detail", "")
    retry_after = getattr(exc, "retry_after", None)
    headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
    return HTTPProblem(status, detail, headers=headers, title=title, **fields)


def problem_body(status: int, title: str, detail: str, **extra: Any) -> bytes:
    return json.dumps(problem_fields(status, title, detail, **extra)).encode("utf-8")


async def respond(
    send: Send,
    status: int,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    content_type: str | None = None,
    head: bool = False,
) -> None:
    out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    if content_type:
        out.append((b"content-type", content_type.encode("latin-1")))
    if status not in (204, 304) and not any(k == b"content-length" for k, _ in out):
        out.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": b"" if head or status == 204 else body})


async def respond_problem(
    send: Send,
    exc: HTTPProblem | DomainError,
    headers: Iterable[tuple[str, str]] = (),
    *,
    head: bool = False,
) -> None:
    exc = as_problem(exc)
    body = problem_body(exc.status, exc.title, exc.detail, **exc.extra)
    await respond(
        send,
        exc.status,
        [*headers, *exc.headers],
        body,
        content_type=PROBLEM_TYPE,
        head=head,
    )


async def drain(receive: Receive, limit: int = 1 << 20) -> None:
    """Read and drop a small request body we are refusing, so the connection stays usable.

    Past `limit` bytes we stop: the server then closes the connection instead.
    """
    seen = 0
    while seen <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body"):
            return
