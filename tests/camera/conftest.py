"""End-to-end fixtures: the whole overt app (Django and the tus routes) served by uvicorn
in a thread on the test database, so the real `overt-camera` process talks to it over
HTTP on both engines, and a TCP relay that can cut the line as a dead server would."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from overt.cli.main import cli
from uploads.conftest import _Server  # the upload tests' uvicorn-in-a-thread server


@pytest.fixture(scope="session")
def _overt_app() -> Iterator[_Server]:
    from overt.uploads import asgi_body

    asgi_body.FINISH_IN_OWN_THREAD = False  # one thread for database work (SQLite in memory)
    from overt.project.asgi import application

    server = _Server(application)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def overt_url(_overt_app: _Server, transactional_db: None) -> str:
    fleet_profile()
    return _overt_app.url


def fleet_profile(**settings: Any) -> None:
    """The server's default camera profile, which agents apply at each offload: small and
    quick for tests (the built-in one is 1080p with 30 s of buffer)."""
    from overt.custody.services import Actor
    from overt.fleet.profiles import save_profile

    values = {
        "buffer_seconds": 2,
        "resolution": "640x360",
        "segment_seconds": 10,
        "audio_in_buffer": False,
        "peer_group": "",
        "offload_bandwidth_kbps": None,
    }
    save_profile("default", values | settings, by=Actor("user", "camera-tests"))


def overt(*args: str) -> str:
    """The `overt` command, in this process (on the test database)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def enrolment_code(serial: str) -> str:
    if "MP900" not in overt("officer", "list", "--json"):
        overt("officer", "add", "MP900", "--name", "PC Lens")
    if serial not in overt("device", "list", "--json"):
        overt("device", "add", serial, "--model", "Pi head camera")
        overt("device", "assign", serial, "MP900", "--from", "2020-01-01")
    return str(json.loads(overt("device", "enrol", serial, "--json"))["code"])


def recordings() -> list[dict[str, Any]]:
    return list(json.loads(overt("recording", "list", "--json")))


class Relay:
    """A TCP relay to the server; `cut()` drops every connection and stops answering."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.relayed = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self.open += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
                if count:
                    self.relayed += len(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() and frees the port
        except OSError:
            pass
        self.listener.close()
        with self._lock:
            for sock in self.open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.open.clear()

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()


@pytest.fixture
def relay(overt_url: str) -> Iterator[Relay]:
    host, port = overt_url.removeprefix("http://").split(":")
    line = Relay((host, int(port)))
    yield line
    line.cut()


def spool_files(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "spool").iterdir())
