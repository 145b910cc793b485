"""Helpers for the review workspace's browser tests: footage with sidecars, a reviewer
with a second factor, and signing in through the real forms."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from overt.demo.footage import render_clip
from overt.evidence.models import Device, Officer
from overt.ingest.services import IngestResult, ingest_file
from overt.ingest.sidecar import parse_sidecar
from overt.testing.access import make_user, totp_device, totp_now

PASSWORD = "correct horse battery staple"


def reviewer(username: str = "reviewer", role: str = "evidence-manager"):  # type: ignore[no-untyped-def]
    user = make_user(username, role, password=PASSWORD)
    device = totp_device(user)
    return user, device


def sign_in_page(page, base_url: str, username: str, device=None) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/")
    assert "/login/" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    if device is not None:
        page.get_by_role("textbox", name="Code").fill(totp_now(device))
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base_url}/home/")  # each role's home page is the landing page
    page.goto(f"{base_url}/")  # the library, where these tests start


def ingest(
    folder: Path,
    *,
    officer: str,
    device: str,
    start: datetime,
    seconds: float,
    title: str,
    incident: str = "",
    markers: list[tuple[float, str]] = (),  # type: ignore[assignment]
    seed: int = 1,
    world_seed: int = 0,
    claimed_start: datetime | None = None,
) -> IngestResult:
    """Render a clip, then ingest it with a sidecar as a camera dock would."""
    Officer.objects.get_or_create(number=officer, defaults={"name": f"PC {officer}"})
    Device.objects.get_or_create(serial=device)
    path = folder / f"{device}-{seed}.mp4"
    render_clip(
        path,
        seed=seed,
        start_utc=start,
        duration_s=seconds,
        device_serial=device,
        officer_number=officer,
        width=320,
        height=180,
        world_seed=world_seed,
    )
    claimed = claimed_start or start
    sidecar = {
        "schema": "overt.sidecar/1",
        "officer": officer,
        "device": device,
        "recording": {
            "trigger_on_at": (claimed + timedelta(seconds=2)).isoformat(),
            "trigger_off_at": (claimed + timedelta(seconds=seconds)).isoformat(),
            "pre_event_seconds": 2,
            "title": title,
            "incident": incident,
            "gps_track": [
                {
                    "t": (claimed + timedelta(seconds=t)).isoformat(),
                    "lat": 51.4964 + t / 5e4,
                    "lon": -0.1314 + t / 4e4,
                }
                for t in range(0, int(seconds), 2)
            ],
        },
        "clip": {"started_at": claimed.isoformat()},
        "markers": [
            {"at": (claimed + timedelta(seconds=t)).isoformat(), "text": text}
            for t, text in markers
        ],
    }
    return ingest_file(
        path,
        officer_number=None,
        device_serial=None,
        sidecar=parse_sidecar(json.dumps(sidecar).encode()),
    )
