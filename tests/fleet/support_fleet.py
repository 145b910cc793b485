"""Fleet test helpers: an evidence manager's client, a camera with its device token."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.test import Client

from overt.access.matrix import Role
from overt.testing.access import make_user, sign_in
from overt.testing.moto import free_port
from overt.testing.pytest_env import POSTGRES_URL
from overt.uploads.tokens import issue_token


def manager_client(username: str = "em") -> Client:
    return sign_in(Client(), make_user(username, Role.EVIDENCE_MANAGER))


def device_client(serial: str) -> Client:
    token = issue_token(serial, dock=False, created_by="test")
    return Client(headers={"Authorization": f"Bearer {token}"})


def status_body(**changes: Any) -> dict[str, Any]:
    body = {
        "agent_version": "overt-camera 0.1",
        "battery_percent": 80,
        "charging": False,
        "free_bytes": 50 << 30,
        "pending_segments": 0,
        "pending_bytes": 0,
        "clock_offset_s": 0.2,
        "last_error": None,
        "config_version": None,
        "reported_at": "2026-12-01T10:00:00Z",
    }
    return {**body, **changes}


def overt_process(home: Path, url: str, *args: str, **env_more: str) -> subprocess.Popen[str]:
    """A real `overt` process on its own instance and database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env.update(
        {
            "OVERT_HOME": str(home),
            "OVERT_DATABASE_URL": url,
            "OVERT_MIN_FREE_BYTES": "0",
            **env_more,
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "overt", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def overt_run(home: Path, url: str, *args: str) -> str:
    process = overt_process(home, url, *args)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, (args, out, err)
    return out


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database of its own (scaled run only), dropped afterwards."""
    if os.environ.get("OVERT_TEST_ENGINES") != "scaled":
        pytest.skip("needs the scaled engines (PostgreSQL)")
    name = f"overt_fleet_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class CuttableProxy:
    """A TCP proxy to PostgreSQL that can drop every connection and refuse new ones."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.up = True
        self.socks: list[socket.socket] = []
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.socks.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.server.close()
