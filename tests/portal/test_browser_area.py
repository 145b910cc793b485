"""The library map in Chromium: tracks over the offline base map, and the area filter
(the search's box=) by pointer, by keyboard (typed bounds, the map's view) and with a
force's own base map file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_checks import PASSWORD, axe_violations, overflow, sign_in
from portal_support import people
from review_support import ingest

from overt.access.matrix import Role
from overt.evidence.models import Recording
from overt.testing.access import totp_device
from support_browser import ARTIFACTS, screenshot

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
HORSEFERRY = (51.4964, -0.1314)
CAMDEN = (51.5390, -0.1426)


def _two_recordings(tmp_path: Any) -> None:
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
        {
            "t": (START + timedelta(seconds=t)).isoformat(),
            "lat": CAMDEN[0],
            "lon": CAMDEN[1] + t / 4e4,
        }
        for t in range(0, 4, 2)
    ]
    far.start_latitude, far.start_longitude = CAMDEN
    far.save()
    # The search narrows by start point first (overt.evidence.places.candidates): a
    # camera sends one with its track; the test sidecar does not, so set it here.
    Recording.objects.filter(pk=here.recording_id).update(
        start_latitude=HORSEFERRY[0], start_longitude=HORSEFERRY[1]
    )


def _open_library(page: Any, url: str) -> Any:
    manager = people()[Role.EVIDENCE_MANAGER]
    manager.set_password(PASSWORD)  # type: ignore[attr-defined]
    manager.save()  # type: ignore[attr-defined]
    sign_in(page, url, "manager", totp_device(manager))
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None,
    )
    page.goto(f"{url}/")
    page.wait_for_function(
        "() => Number(document.getElementById('track-map').dataset.basemapFeatures) > 0"
    )
    titles = page.locator("table.recordings tbody th a")
    assert sorted(titles.all_text_contents()) == ["Camden High Street", "Horseferry Road"]
    return titles, outside


@pytest.mark.django_db(transaction=True)
def test_the_map_draws_on_the_offline_base_map_and_filters_by_a_drawn_area(
    live_server, page, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    _two_recordings(tmp_path)
    titles, outside = _open_library(page, live_server.url)
    # The built-in London map: boroughs and Underground lines, from overt itself.
    attribution = page.locator("#track-map .leaflet-control-attribution").inner_text()
    assert "Crown copyright" in attribution and "OpenStreetMap contributors" in attribution
    assert overflow(page) == [] and axe_violations(page) == []
    screenshot(page, "library-map")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("section.map-panel").screenshot(path=str(ARTIFACTS / "library-map-panel.png"))
    # Press "Draw an area" and drag around the Horseferry Road track.
    page.get_by_role("button", name="Draw an area").click()
    page.locator("#track-map").scroll_into_view_if_needed()
    box = page.locator("#track-map").bounding_box()
    x, y = page.evaluate(
        "([lat, lon]) => document.getElementById('track-map').overtMap.toScreen([lat, lon])",
        list(HORSEFERRY),
    )
    page.mouse.move(box["x"] + x - 25, box["y"] + y - 25)
    page.mouse.down()
    page.mouse.move(box["x"] + x + 25, box["y"] + y + 25, steps=5)
    page.mouse.up()
    page.wait_for_url("**box=*")
    assert titles.all_text_contents() == ["Horseferry Road"]
    south, west, north, east = (
        float(v) for v in page.url.split("box=")[1].split("&")[0].split("%2C")
    )
    assert south < HORSEFERRY[0] < north and west < HORSEFERRY[1] < east
    # The typed fields show the area drawn.
    assert float(page.get_by_label("South (latitude)").input_value()) == pytest.approx(south)
    page.get_by_role("link", name="Clear the area").click()
    page.wait_for_load_state()
    assert "box=" not in page.url and titles.count() == 2
    assert outside == []  # no tile, font or script from anywhere but overt


@pytest.mark.django_db(transaction=True)
def test_the_area_filter_works_from_the_keyboard(live_server, page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _two_recordings(tmp_path)
    titles, _ = _open_library(page, live_server.url)
    # The map takes focus and zooms with the keyboard (Leaflet's own keys).
    page.locator("#track-map").focus()
    before = page.evaluate("() => document.getElementById('track-map').overtMap.map.getZoom()")
    page.keyboard.press("Equal")
    page.wait_for_function(
        f"() => document.getElementById('track-map').overtMap.map.getZoom() > {before}"
    )
    # "Use the map's view" fills the four fields with the view's bounds.
    page.get_by_role("button", name="Use the map's view").focus()
    page.keyboard.press("Enter")
    bounds = page.evaluate(
        """() => { const b = document.getElementById('track-map').overtMap.map.getBounds();
                   return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }"""
    )
    for label, value in zip(
        ["South (latitude)", "West (longitude)", "North (latitude)", "East (longitude)"],
        bounds,
        strict=True,
    ):
        assert float(page.get_by_label(label).input_value()) == pytest.approx(value, abs=1e-5)
    # Type an area around Camden High Street, with the keyboard only, and submit with Enter.
    for label, value in [
        ("South (latitude)", "51.535"),
        ("West (longitude)", "-0.15"),
        ("North (latitude)", "51.545"),
        ("East (longitude)", "-0.13"),
    ]:
        page.get_by_label(label).focus()
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
    page.keyboard.press("Enter")
    page.wait_for_url("**box=*")
    assert titles.all_text_contents() == ["Camden High Street"]
    assert "box=51.53500%2C-0.15000%2C51.54500%2C-0.13000" in page.url


@pytest.mark.django_db(transaction=True)
def test_a_forces_own_area_file_is_the_base_map(live_server, page, tmp_path, settings_env) -> None:  # type: ignore[no-untyped-def]
    street = {
        "type": "Feature",
        "properties": {"highway": "primary", "name": "Horseferry Road"},
        "geometry": {
            "type": "LineString",
            "coordinates": [[-0.1360, 51.4956], [-0.1314, 51.4964], [-0.1270, 51.4968]],
        },
    }
    # Names are text, never markup: a force's file cannot put HTML into the page.
    square = {
        "type": "Feature",
        "properties": {"kind": "area", "name": "<b>Smith Square</b>"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[-0.1290, 51.4960], [-0.1280, 51.4960], [-0.1280, 51.4966], [-0.1290, 51.4960]]
            ],
        },
    }
    area = tmp_path / "westminster.geojson"
    area.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "name": "Westminster streets",
                "attribution": "Test streets of the force <img src=x>",
                "features": [street, square],
            }
        )
    )
    settings_env(map_area_file=str(area))
    _two_recordings(tmp_path)
    _open_library(page, live_server.url)
    assert page.locator("#track-map").get_attribute("data-basemap-features") == "2"
    attribution = page.locator("#track-map .leaflet-control-attribution").inner_text()
    assert "Test streets of the force <img src=x>" in attribution and "Crown" not in attribution
    assert page.locator("#track-map .basemap-label").inner_text() == "<b>Smith Square</b>"
    assert page.locator("#track-map img, #track-map b").count() == 0
