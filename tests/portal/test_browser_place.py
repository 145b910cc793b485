"""A recording's place in Chromium: the track on the page's map with a marker that moves
with playback, how far it went, and a link to recordings near its start (issue 19: the
page showed raw coordinates only)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from browser_checks import PASSWORD, overflow, sign_in
from portal_support import people
from review_support import ingest

from overt.access.matrix import Role
from overt.jobs.worker import run_worker
from overt.testing.access import totp_device
from support_browser import screenshot

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
VIDEO = "document.querySelector('video.player-video:not([hidden])')"


@pytest.mark.django_db(transaction=True)
def test_the_marker_follows_playback(live_server, page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    made = ingest(
        tmp_path,
        officer="MP100",
        device="CAM-1",
        start=START,
        seconds=8,
        title="Stop on Horseferry Road",
    )
    run_worker(burst=True)
    manager = people()[Role.EVIDENCE_MANAGER]
    manager.set_password(PASSWORD)  # type: ignore[attr-defined]
    manager.save()  # type: ignore[attr-defined]
    sign_in(page, live_server.url, "manager", totp_device(manager))
    page.goto(f"{live_server.url}/recordings/{made.recording_id}/")
    page.get_by_label("Reason", exact=True).select_option(index=1)
    page.get_by_label("Justification").fill("Reviewing the stop")
    page.get_by_role("button", name="Record reason and view").click()
    page.wait_for_function(f"() => {VIDEO} && {VIDEO}.readyState >= 2", timeout=20_000)

    place = page.locator("#place-heading + p").inner_text()
    assert place.startswith("Started at 51.49640, -0.13140; moved about")
    near = page.get_by_role("link", name="Other recordings within 200 m")
    assert near.get_attribute("href") == "/?near=51.49640%2C-0.13140%2C200"
    start = page.locator("#place-map").get_attribute("data-marker")
    page.evaluate(f"() => {{ {VIDEO}.currentTime = 6.5; }}")
    page.wait_for_function(
        f"() => document.getElementById('place-map').dataset.marker !== '{start}'", timeout=10_000
    )
    lat, lon = (
        float(v) for v in page.locator("#place-map").get_attribute("data-marker").split(",")
    )
    # 6.5 s into the clip: the track's fixes at 6 s and 8 s (none at 8), so the last one.
    assert lat == pytest.approx(51.4964 + 6 / 5e4, abs=2e-6)
    assert lon == pytest.approx(-0.1314 + 6 / 4e4, abs=2e-6)
    assert overflow(page) == []
    screenshot(page, "recording-place")
