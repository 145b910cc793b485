"""A small HTTP client on the standard library (http.client): JSON calls with the device
token, problem+json errors turned into messages, and a body sent from a file in chunks.

No third-party client: the agent runs on small boards with what PyAV and cryptography need.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit


class ServerUnreachable(ConnectionError):
    """No answer: the server is down, the network is gone, or the request timed out."""


class ServerRefused(RuntimeError):
    """The server answered with an error status; `detail` is its problem+json detail."""

    def __init__(self, status: int, detail: str, body: Any = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.body = body


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    sent_at: float  # device clock when the request went out
    received_at: float  # and when the answer came back

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise ServerRefused(self.status, "the server's answer is not JSON") from exc

    def server_date(self) -> float | None:
        value = self.headers.get("date")
        if not value:
            return None
        try:
            return email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None


def problem_detail(response: Response) -> str:
    try:
        data = json.loads(response.body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        detail = data.get("detail") or data.get("title")
        if detail:
            return str(detail)
    return http.client.responses.get(response.status, "error")


class Client:
    """One server; keeps one connection open and opens a new one when it breaks."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 30.0,
        ca_file: str | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"server URL must be http:// or https://HOST, not {base_url!r}")
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.timeout = timeout
        self._parts = parts
        self._context = (
            ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None
        )
        self._conn: http.client.HTTPConnection | None = None

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            host, port = self._parts.hostname or "", self._parts.port
            if self._context is not None:
                self._conn = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=self._context, blocksize=1 << 20
                )
            else:
                self._conn = http.client.HTTPConnection(
                    host, port, timeout=self.timeout, blocksize=1 << 20
                )
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> Response:
        """Send once; ServerUnreachable on no answer, ServerRefused on a status not in `ok`."""
        target = urlsplit(self.url(path))
        wanted = target.path + (f"?{target.query}" if target.query else "")
        sent = {"User-Agent": "overt-camera", **(headers or {})}
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        sent_at = time.time()
        try:
            conn = self._connection()
            conn.request(method, wanted, body=body, headers=sent)
            answer = conn.getresponse()
            data = answer.read()
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self.close()
            raise ServerUnreachable(f"{self.base_url}: {exc or type(exc).__name__}") from exc
        response = Response(
            answer.status,
            {k.lower(): v for k, v in answer.getheaders()},
            data,
            sent_at,
            time.time(),
        )
        if answer.will_close:
            self.close()
        if response.status not in ok:
            body_json: Any = None
            try:
                body_json = json.loads(data) if data else None
            except ValueError:
                pass
            raise ServerRefused(response.status, problem_detail(response), body_json)
        return response

    def call(self, method: str, path: str, payload: Any = None) -> tuple[Any, Response]:
        """A JSON request and its decoded answer."""
        body = None
        headers = {"Accept": "application/json"}
        if payload is not None:
            body = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        response = self.request(method, path, body, headers)
        return response.json(), response


def clock_offset(response: Response, server_time: float | None) -> float | None:
    """Device clock minus server clock, from the answer's server_time (or Date header),
    taken against the middle of the round trip."""
    server = server_time if server_time is not None else response.server_date()
    if server is None:
        return None
    middle = (response.sent_at + response.received_at) / 2
    return round(middle - server, 3)
