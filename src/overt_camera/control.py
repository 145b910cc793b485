"""The local control API, on loopback only:

- `POST /trigger` {"action": "start"|"stop", "reason": "...", "kind": "manual"|"sensor",
  "source": "holster"}: start or stop (a sensor may only start);
- `GET /status`: {"state": "buffering"|"recording", "pending_segments", "last_error", ...};
- `POST /offload`: offload now (for `--offload manual`).

Errors are problem+json. The address actually bound is written to DIR/control.json.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .triggers import TriggerConflict, TriggerRefused, TriggerRequest

MAX_BODY = 16 * 1024


class ControlError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"control address {text!r} is not HOST:PORT")
    host = host.strip("[]") or "127.0.0.1"
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"control address {host} is not loopback: the control API is local only")
    return host, int(port)


class ControlServer:
    def __init__(
        self,
        address: tuple[str, int],
        trigger: Callable[[TriggerRequest], dict[str, Any]],
        status: Callable[[], dict[str, Any]],
        offload: Callable[[], dict[str, Any]],
    ) -> None:
        routes: dict[tuple[str, str], Callable[[Any], dict[str, Any]]] = {
            ("POST", "/trigger"): self._trigger,
            ("GET", "/status"): lambda body: status(),
            ("POST", "/offload"): lambda body: offload(),
        }
        self._trigger_func = trigger

        class Handler(BaseHTTPRequestHandler):
            server_version = "overt-camera"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the agent logs what matters itself

            def _answer(self, status: int, data: dict[str, Any], problem: bool = False) -> None:
                body = json.dumps(data, sort_keys=True).encode("utf-8")
                self.send_response(status)
                kind = "application/problem+json" if problem else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self, method: str) -> None:
                path = self.path.split("?", 1)[0]
                route = routes.get((method, path))
                try:
                    if route is None:
                        known = {p for _, p in routes}
                        if path in known:
                            raise ControlError(405, f"{method} is not allowed on {path}")
                        raise ControlError(404, f"no such resource {path}")
                    self._answer(200, route(self._body() if method == "POST" else None))
                except ControlError as exc:
                    title = HTTPStatus(exc.status).phrase
                    problem = {
                        "type": "about:blank",
                        "title": title,
                        "status": exc.status,
                        "detail": exc.detail,
                    }
                    self._answer(exc.status, problem, problem=True)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    raise ControlError(413, f"the body is longer than {MAX_BODY} bytes")
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    return json.loads(raw)
                except ValueError as exc:
                    raise ControlError(400, "the body is not JSON") from exc

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        self.httpd = ThreadingHTTPServer(address, Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="control", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _trigger(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ControlError(400, "the body must be a JSON object")
        unknown = sorted(set(body) - {"action", "reason", "kind", "source"})
        if unknown:
            raise ControlError(400, f"unknown field(s): {', '.join(unknown)}")
        values = {k: body.get(k) for k in ("action", "reason", "kind", "source")}
        if not all(v is None or isinstance(v, str) for v in values.values()):
            raise ControlError(400, "action, reason, kind and source must be strings")
        kind = values["kind"] or "manual"
        if kind not in ("manual", "sensor"):
            raise ControlError(400, "kind must be manual or sensor through the control API")
        if kind == "sensor" and not values["source"]:
            raise ControlError(400, "a sensor event names its source (holster, taser, lightbar)")
        request = TriggerRequest(
            action=values["action"] or "",
            kind=kind,
            reason=values["reason"] or "",
            source=values["source"],
        )
        try:
            return self._trigger_func(request)
        except TriggerRefused as exc:
            raise ControlError(400, str(exc)) from exc
        except TriggerConflict as exc:
            raise ControlError(409, str(exc)) from exc
