"""Faults during a storm, with real processes on real PostgreSQL (the scaled run):

- an app process killed in the middle of a tus PATCH: the client resumes on another node
  (offsets and locks are in the database; the dead owner's lock is freed), and the stored
  object is byte for byte what was sent;
- the database gone (a TCP proxy in front of PostgreSQL, cut and restored, as a restart
  looks to the app): 503 with Retry-After, never a 500, and service resumes by itself.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support_fleet import CuttableProxy, overt_process, overt_run

from overt.testing.moto import free_port

pytestmark = pytest.mark.scaled
TUS = {"Tus-Resumable": "1.0.0"}


class Node:
    """`overt serve --no-worker` on a shared instance and database."""

    def __init__(self, home: Path, url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = overt_process(
            home, url, "serve", "--no-worker", "--bind", f"127.0.0.1:{self.port}"
        )
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()  # a node that never came up is not left running
            raise

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, self.proc.communicate()
            try:
                requests.get(f"{self.url}/healthz", timeout=10)
                return
            except requests.RequestException:  # not up yet, or slow to answer on a busy machine
                assert time.monotonic() < deadline, "overt serve did not start"
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.communicate(timeout=30)


@pytest.fixture
def instance(fresh_database: str, tmp_path: Path) -> tuple[Path, str, str]:
    """A migrated instance with camera CAM-F (assigned to no one) and its token."""
    home = tmp_path / "home"
    overt_run(home, fresh_database, "migrate")
    overt_run(home, fresh_database, "device", "add", "CAM-F", "--model", "VB400")
    token = overt_run(home, fresh_database, "device", "token", "CAM-F").strip()
    return home, fresh_database, token


def _meta(values: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _partial_patch_then_kill(node: Node, location: str, token: str, body: bytes) -> None:
    """Send the PATCH's headers and half its body, then kill -9 the node under it."""
    with socket.create_connection(("127.0.0.1", node.port)) as sock:
        head = (
            f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
            f"Authorization: Bearer {token}\r\nUpload-Offset: 0\r\n"
            f"Content-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        sock.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(1.0)  # let it write (and fsync) some of it
        os.kill(node.proc.pid, signal.SIGKILL)
        node.proc.wait(timeout=30)


def test_a_node_killed_mid_upload_loses_nothing(instance: tuple[Path, str, str]) -> None:
    home, url, token = instance
    auth = {**TUS, "Authorization": f"Bearer {token}"}
    body = os.urandom(6_000_000)
    sha256 = hashlib.sha256(body).hexdigest()
    first, second = Node(home, url), Node(home, url)
    try:
        made = requests.post(
            f"{first.url}/files/",
            headers={
                **auth,
                "Upload-Length": str(len(body)),
                "Upload-Metadata": _meta(
                    {"filename": "kill.bin", "device": "CAM-F", "sha256": sha256}
                ),
            },
            timeout=30,
        )
        assert made.status_code == 201, made.text
        location = "/files/" + made.headers["Location"].rstrip("/").rsplit("/", 1)[1]
        _partial_patch_then_kill(first, location, token, body)
        # The other node knows where the upload stands and takes over the dead one's lock.
        head = requests.head(f"{second.url}{location}", headers=auth, timeout=30)
        assert head.status_code == 200
        offset = int(head.headers["Upload-Offset"])
        assert 0 <= offset < len(body)
        done = requests.patch(
            f"{second.url}{location}",
            data=body[offset:],
            headers={
                **auth,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
            timeout=120,
        )
        assert done.status_code == 204, done.text
        assert done.headers["Overt-Sha256"] == sha256
        assert done.headers["Overt-Upload-Status"] == "stored"
        found = [p for p in (home / "store").rglob(f"*{sha256}*") if p.is_file()]
        assert len(found) == 1  # the stored object, read back and hashed here
        assert hashlib.sha256(found[0].read_bytes()).hexdigest() == sha256
    finally:
        first.stop()
        second.stop()


@pytest.fixture
def proxy() -> Iterator[CuttableProxy]:
    from urllib.parse import urlsplit

    from overt.testing.pytest_env import POSTGRES_URL

    parts = urlsplit(POSTGRES_URL)
    made = CuttableProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    yield made
    made.close()


def test_the_database_gone_is_503_with_retry_after_and_service_resumes(
    instance: tuple[Path, str, str], proxy: CuttableProxy
) -> None:
    home, url, token = instance
    via_proxy = url.replace(f":{url.split(':')[-1].split('/')[0]}/", f":{proxy.port}/")
    node = Node(home, via_proxy)
    auth = {**TUS, "Authorization": f"Bearer {token}"}
    try:
        assert requests.get(f"{node.url}/api/device/config/", headers=auth, timeout=30).ok
        proxy.cut()
        asks = [
            requests.get(f"{node.url}/api/device/config/", headers=auth, timeout=30),
            requests.post(
                f"{node.url}/files/",
                headers={
                    **auth,
                    "Upload-Length": "10",
                    "Upload-Metadata": _meta({"filename": "x.bin", "device": "CAM-F"}),
                },
                timeout=30,
            ),
            requests.get(f"{node.url}/api/device/config/", headers=auth, timeout=30),
        ]
        for answer in asks:
            assert answer.status_code == 503, (answer.status_code, answer.text)
            assert int(answer.headers["Retry-After"]) > 0
            assert answer.headers["Content-Type"] == "application/problem+json"
        proxy.restore()
        deadline = time.monotonic() + 30
        while True:  # the next request reconnects
            answer = requests.get(f"{node.url}/api/device/config/", headers=auth, timeout=30)
            if answer.ok or time.monotonic() > deadline:
                break
            assert answer.status_code == 503
            time.sleep(0.5)
        assert answer.status_code == 200, answer.text
    finally:
        node.stop()
