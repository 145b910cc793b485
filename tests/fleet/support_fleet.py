"""Fleet test helpers: an evidence manager's client, a camera with its device token."""

from __future__ import annotations

from typing import Any

from django.test import Client

from overt.access.matrix import Role
from overt.testing.access import make_user, sign_in
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
