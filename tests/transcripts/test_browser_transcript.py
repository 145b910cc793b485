"""In a real browser: search for words said, follow the snippet to the player at that
second, captions on the video, the panel seeks and finds words."""

from __future__ import annotations

import json

import pytest

from overt.ingest.services import ingest_file
from overt.ingest.sidecar import parse_sidecar
from overt.jobs.worker import run_worker
from overt.testing.access import make_user
from overt.transcripts.models import TranscriptVersion
from support_browser import screenshot

SIDECAR = {
    "schema": "overt.sidecar/1",
    "officer": "MP100",
    "device": "CAM-1",
    "recording": {"trigger_on_at": "2026-11-20T14:00:00Z", "title": "Stop on Victoria Street"},
    "clip": {"started_at": "2026-11-20T14:00:00Z"},
}


@pytest.mark.django_db(transaction=True)
def test_search_to_player_with_captions_and_panel(live_server, page, people, speech_clip) -> None:
    result = ingest_file(
        speech_clip,
        officer_number=None,
        device_serial=None,
        sidecar=parse_sidecar(json.dumps(SIDECAR).encode()),
    )
    run_worker(burst=True)
    version = TranscriptVersion.objects.get(original_id=result.id)
    said = next(w for w in version.words if str(w[0]).lower().startswith("searching"))
    make_user("viewer", "officer", officer="MP100", password="correct horse battery")

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("viewer")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/?q=%22searching+you%22")
    link = page.locator(".snippet a")
    assert "searching" in link.inner_text().lower()
    link.click()
    assert f"?clip={result.id}&t=" in page.url
    page.get_by_label("Reason").select_option(index=1)
    page.get_by_label("Justification").fill("Checking what was said")
    page.get_by_role("button", name="Record reason and view").click()
    assert f"?clip={result.id}&t=" in page.url  # the hit's second survives the reason

    page.wait_for_function(
        "() => document.querySelectorAll('#transcript .w').length > 5", timeout=30_000
    )
    # The player lands where the words were said.
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('video').currentTime - {said[1]}) < 0.3",
        timeout=30_000,
    )
    # Captions: a default track whose cues hold the words.
    page.wait_for_function(
        "() => { const t = document.querySelector('video').textTracks[0];"
        " return t && t.cues && t.cues.length > 0; }",
        timeout=30_000,
    )
    cues = page.evaluate(
        "() => [...document.querySelector('video').textTracks[0].cues].map(c => c.text).join(' ')"
    )
    assert "searching" in cues.lower()
    # Clicking a word seeks there; finding marks words.
    first = page.locator("#transcript .w").first
    first.click()
    page.evaluate("() => document.querySelector('video').pause()")
    start = float(version.words[0][1])
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('video').currentTime - {start}) < 0.6",
        timeout=20_000,
    )
    page.get_by_label("Find in transcript").fill("victoria")
    assert page.locator("#transcript .w.hit").count() >= 1
    screenshot(page, "transcript-panel")
