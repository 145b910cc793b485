"""The library map's area filter in Chromium: dragging across the map keeps only the
recordings whose GPS track passed through that area (the search's box= filter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from browser_checks import PASSWORD, sign_in
from portal_support import people
from review_support import ingest

from overt.access.matrix import Role
from overt.evidence.models import Recording
from overt.testing.access import totp_device

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_drag_an_area_to_filter(live_server, page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    here = ingest(
        tmp_path, officer="MP100", device="CAM-1", start=START, seconds=4, title="Horseferry Road"
    )
    there = ingest(
        tmp_path,
        officer="MP200",
        device="CAM-2",
        start=START,
        seconds=4,
        title="Camden High Street",
        seed=2,
    )
    far = Recording.objects.get(pk=there.recording_id)
    far.gps_track = [
        {"t": (START + timedelta(seconds=t)).isoformat(), "lat": 51.5390, "lon": -0.1426 + t / 4e4}
        for t in range(0, 4, 2)
    ]
    far.start_latitude, far.start_longitude = 51.5390, -0.1426
    far.save()
    # The search narrows by start point first (overt.evidence.places.candidates): a
    # camera sends one with its track; the test sidecar does not, so set it here.
    Recording.objects.filter(pk=here.recording_id).update(
        start_latitude=51.4964, start_longitude=-0.1314
    )
    manager = people()[Role.EVIDENCE_MANAGER]
    manager.set_password(PASSWORD)  # type: ignore[attr-defined]
    manager.save()  # type: ignore[attr-defined]
    sign_in(page, live_server.url, "manager", totp_device(manager))
    page.goto(f"{live_server.url}/")
    titles = page.locator("table.recordings tbody th a")
    assert sorted(titles.all_text_contents()) == ["Camden High Street", "Horseferry Road"]
    # Around the Horseferry Road track, in screen pixels, from the map's own projection.
    box = page.locator("#track-map").bounding_box()
    x, y = page.evaluate(
        """() => { const m = document.getElementById('track-map').overtMap;
                   const t = m.tracks.find((t) => t.title === 'Horseferry Road');
                   return m.toScreen(t.xy[0]); }"""
    )
    page.mouse.move(box["x"] + x - 25, box["y"] + y - 25)
    page.mouse.down()
    page.mouse.move(box["x"] + x + 25, box["y"] + y + 25, steps=5)
    page.mouse.up()
    page.wait_for_url("**box=*")
    assert titles.all_text_contents() == ["Horseferry Road"]
    assert here.recording_id != there.recording_id
    page.get_by_role("link", name="Clear the area").click()
    page.wait_for_load_state()
    assert "box=" not in page.url and titles.count() == 2
