"""Fixtures for the upload tests: the real ASGI app (with its streaming upload routes)
served by uvicorn in a thread against the test database, device tokens, and a real
`overt serve` process on its own instance for restart tests."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from overt.testing.app_server import AppServer
from overt.testing.moto import free_port

TUS = {"Tus-Resumable": "1.0.0"}


_Server = AppServer


@pytest.fixture(scope="session")
def _asgi_server() -> Iterator[_Server]:
    from overt.uploads import asgi_body

    # One thread for all database work: the test database is SQLite in memory.
    asgi_body.FINISH_IN_OWN_THREAD = False
    from overt.project.asgi import application

    server = _Server(application)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(_asgi_server: _Server, transactional_db: None) -> str:
    """Base URL of the whole app (Django and the upload routes), on the test database."""
    return _asgi_server.url


@dataclass
class Device:
    serial: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def camera(server: str, people: tuple) -> Device:
    from overt.uploads.tokens import issue_token

    return Device("CAM-1", issue_token("CAM-1", dock=False, created_by="test"))


def metadata(**values: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items()
    )


def create(
    server: str, who: Device, length: int, *, headers: dict | None = None, **meta: str
) -> requests.Response:
    meta.setdefault("officer", "MP100")
    return requests.post(
        f"{server}/files/",
        headers={
            **TUS,
            **who.auth,
            "Upload-Length": str(length),
            "Upload-Metadata": metadata(**meta),
            **(headers or {}),
        },
        timeout=30,
    )


def patch(
    server: str, device: Device, location: str, offset: int, body: bytes, **headers: str
) -> requests.Response:
    return requests.patch(
        server + location,
        data=body,
        headers={
            **TUS,
            **device.auth,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            **{k.replace("_", "-"): v for k, v in headers.items()},
        },
        timeout=60,
    )


def head(server: str, device: Device, location: str) -> requests.Response:
    return requests.head(server + location, headers={**TUS, **device.auth}, timeout=30)


# --- a real `overt serve` on its own instance ------------------------------------------


@dataclass
class OvertProcess:
    home: Path
    port: int
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
        env.update({"OVERT_HOME": str(self.home), "OVERT_MIN_FREE_BYTES": "0"})
        return env

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "overt", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "overt",
                "serve",
                "--no-worker",
                "--bind",
                f"127.0.0.1:{self.port}",
            ],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"overt serve exited: {self.proc.stderr.read().decode()}")
            try:
                requests.options(f"{self.url}/files/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("overt serve did not answer")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or power cut of the process."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def overt_process(tmp_path: Path) -> Iterator[OvertProcess]:
    process = OvertProcess(tmp_path / "instance", free_port())
    init = process.cli("init")
    assert init.returncode == 0, init.stderr
    yield process
    process.stop()


@pytest.fixture
def registered(overt_process: OvertProcess) -> Callable[[str], Device]:
    """Register officer MP100 and a camera in the process's instance; return its token."""

    def make(serial: str = "CAM-1", *extra: str) -> Device:
        if overt_process.cli("officer", "list", "--json").stdout.find("MP100") < 0:
            assert overt_process.cli("officer", "add", "MP100", "--name", "PC Test").returncode == 0
        added = overt_process.cli("device", "add", serial, "--model", "Test Cam")
        assert added.returncode == 0, added.stderr
        out = overt_process.cli("device", "token", serial, *extra)
        assert out.returncode == 0, out.stderr
        return Device(serial, out.stdout.strip())

    return make
