"""`overt serve` never leaves its job worker behind: real signals to a real process.

Process state is read from /proc and with os.kill(pid, 0); every wait is bounded, and
none of the bounds is a claim about speed.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from overt.testing.moto import free_port

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
LIMIT_S = 120.0


def wait_for(check: Callable[[], object], what: str) -> object:
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up after {LIMIT_S:.0f} s waiting for {what}")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) from /proc/PID/stat, or None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw.rpartition(")")[2].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has exited


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid and stat[0] != "Z":
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve") / "instance"


class Serve:
    """A real `overt serve` (with its worker) on its own instance."""

    def __init__(self, home: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
        env.update({"OVERT_HOME": str(home), "OVERT_MIN_FREE_BYTES": "0"})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "overt", "serve", "--bind", f"127.0.0.1:{self.port}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.workers: set[int] = set()

    def wait_up(self) -> int:
        """Wait until the server answers and has a worker; return the worker's pid."""

        def answering() -> bool:
            assert self.proc.poll() is None, self.proc.stderr.read()  # type: ignore[union-attr]
            try:
                requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5)
            except requests.ConnectionError:
                return False
            return True

        wait_for(answering, "overt serve to answer")
        return self.worker()

    def worker(self, other_than: int | None = None) -> int:
        def found() -> int | None:
            pids = [p for p in children(self.proc.pid) if p != other_than]
            return pids[0] if len(pids) == 1 else None

        pid = int(wait_for(found, "the worker beside overt serve"))  # type: ignore[arg-type]
        self.workers.add(pid)
        return pid

    def cleanup(self) -> None:
        for pid in [self.proc.pid, *self.workers]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=LIMIT_S)


@pytest.fixture
def serve(home: Path) -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def start(port: int | None = None) -> Serve:
        started.append(Serve(home, port))
        return started[-1]

    yield start
    for server in started:
        server.cleanup()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_serve_stops_its_worker(serve, signum: int) -> None:
    server = serve()
    worker = server.wait_up()
    assert alive(worker)

    server.proc.send_signal(signum)
    assert server.proc.wait(timeout=LIMIT_S) == -signum  # ends as the signal would
    wait_for(lambda: not alive(worker), f"worker {worker} to be gone")


def test_a_server_that_cannot_start_stops_its_worker(serve) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = serve(port=taken.getsockname()[1])
        out, _ = server.proc.communicate(timeout=LIMIT_S)
    assert server.proc.returncode != 0
    worker = int(re.search(r"worker: yes, pid (\d+)", out).group(1))  # type: ignore[union-attr]
    server.workers.add(worker)
    assert not alive(worker)


def test_a_killed_server_takes_its_worker_with_it(serve) -> None:
    server = serve()
    worker = server.wait_up()

    os.kill(server.proc.pid, signal.SIGKILL)  # no cleanup code of the server runs
    server.proc.wait(timeout=LIMIT_S)
    wait_for(lambda: not alive(worker), f"worker {worker} to be gone")


def test_a_dead_worker_is_replaced_and_the_new_one_stops_with_the_server(serve) -> None:
    server = serve()
    first = server.wait_up()

    os.kill(first, signal.SIGKILL)
    second = server.worker(other_than=first)
    assert second != first and alive(second) and not alive(first)

    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(timeout=LIMIT_S)
    wait_for(lambda: not alive(second), f"worker {second} to be gone")
