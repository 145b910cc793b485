"""The proxy really plays in a browser: log in, justify, play, jump to a marker."""

from __future__ import annotations

import json

import pytest

from overt.custody.models import CustodyEntry
from overt.ingest.services import ingest_file
from overt.ingest.sidecar import parse_sidecar
from overt.jobs.worker import run_worker
from overt.testing.access import make_user
from support_browser import screenshot

SIDECAR = {
    "schema": "overt.sidecar/1",
    "officer": "MP100",
    "device": "CAM-1",
    "recording": {"trigger_on_at": "2026-11-20T14:00:00Z", "title": "Browser playback check"},
    "clip": {"started_at": "2026-11-20T14:00:00Z"},
    "markers": [{"at": "2026-11-20T14:00:01.500Z", "text": "Halfway marker"}],
}


@pytest.mark.django_db(transaction=True)
def test_proxy_plays_and_a_marker_seeks(live_server, page, people, clips) -> None:
    result = ingest_file(
        clips["good"],
        officer_number=None,
        device_serial=None,
        sidecar=parse_sidecar(json.dumps(SIDECAR).encode()),
    )
    run_worker(burst=True)
    make_user("viewer", "officer", officer="MP100", password="correct horse battery")

    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.get_by_label("Username").fill("viewer")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Browser playback check").click()
    assert f"/recordings/{result.recording_id}/" in page.url

    page.get_by_label("Reason").select_option(index=1)
    page.get_by_label("Justification").fill("Checking the proxy plays")
    page.get_by_role("button", name="Record reason and view").click()
    video = page.locator("video").first
    video.wait_for()
    page.wait_for_function(
        "() => document.querySelector('video').readyState >= 2", timeout=20_000
    )
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; v.play(); }")
    page.wait_for_function(
        "() => document.querySelector('video').currentTime > 0.5", timeout=20_000
    )
    screenshot(page, "recording-playing")

    page.evaluate("() => document.querySelector('video').pause()")
    marker = page.locator("li", has_text="Halfway marker")
    marker.get_by_role("button", name="Clip 1 at").click()
    page.wait_for_function(
        "() => Math.abs(document.querySelector('video').currentTime - 1.5) < 0.1",
        timeout=10_000,
    )
    views = CustodyEntry.objects.filter(action="view", object_sha256=result.sha256)
    assert views.count() == 1
    assert "Checking the proxy plays" in json.loads(views.get().entry)["justification"]
