"""Running the real `overt-camera` agent in tests: homes made offline, the agent as a
process (started, asked through its control API, killed), and files it writes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from overt_camera import keys
from overt_camera.config import AgentConfig
from overt_camera.home import Home


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def offline_home(root: Path, serial: str = "CAM-1", **settings: Any) -> Home:
    """A home as enrolment leaves it, for tests that need no server: key, token, config."""
    home = Home(root)
    home.create()
    keys.load_or_create(home.key_path)
    home.save_token("not-a-real-token")
    values: dict[str, Any] = {
        "serial": serial,
        "server": "http://127.0.0.1:9",  # nothing listens: offload finds no server
        "buffer_seconds": 2,
        "resolution": "320x240",
        "fps": 10,
        "offload_interval_seconds": 3600.0,
        **settings,
    }
    home.save_config(AgentConfig(**values))
    return home


def peer_entry(home: Home, serial: str) -> dict[str, str]:
    public = keys.public_raw(keys.load(home.key_path))
    return {"serial": serial, "key_id": keys.key_id(public), "public_key": keys.b64(public)}


def camera_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "overt_camera", *args]


def run_camera(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        camera_command(*args), capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass
class AgentProcess:
    home: Home
    source: str = "synthetic"
    args: tuple[str, ...] = ()
    proc: subprocess.Popen[str] | None = None
    log: Path | None = None
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)

    def start(self) -> AgentProcess:
        (self.home.root / "control.json").unlink(missing_ok=True)
        self.log = self.home.root / f"agent-{time.monotonic_ns()}.log"
        command = camera_command(
            "run", "--home", str(self.home.root), "--source", self.source,
            "--control", "127.0.0.1:0", *self.args,
        )  # fmt: skip
        self.proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
            text=True,
            env={**os.environ, **self.env},
        )
        deadline = time.monotonic() + 60
        control = self.home.root / "control.json"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agent exited: {self.log.read_text()}")
            if control.exists():
                self.port = json.loads(control.read_text())["port"]
                return self
            time.sleep(0.05)
        raise RuntimeError("the agent did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def status(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/status", timeout=10).json()

    def trigger(self, action: str, reason: str = "test", **extra: str) -> requests.Response:
        body = {"action": action, "reason": reason, **extra}
        return requests.post(f"{self.url}/trigger", json=body, timeout=15)

    def wait_for(self, predicate: Any, what: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = self.status()
            if predicate(status):
                return status
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}: {status}")

    def wait_buffered(self, seconds: float) -> None:
        self.wait_for(lambda s: s["buffered_seconds"] >= seconds, f"{seconds} s buffered")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> int:
        if self.proc is None:
            return 0
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=10)
        self.proc = None
        return code

    def stderr(self) -> str:
        return self.log.read_text() if self.log else ""


def manifests(home: Home) -> list[dict[str, Any]]:
    return [json.loads(p.read_bytes()) for p in sorted(home.spool.glob("*.manifest.json"))]
