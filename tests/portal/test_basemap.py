"""The offline base map: the built-in London data, a force's own area file (checked by
`overt map check`, chosen by OVERT_MAP_AREA_FILE), and the per-view answer that sends a
city's features a view at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from portal_support import client_for, people

from overt.access.matrix import Role
from overt.cli.main import cli
from overt.errors import Invalid
from overt.portal import basemap

WESTMINSTER = (-0.1314, 51.4964)


def collection(*features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **extra}


def street(name: str, coords: list[list[float]]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"highway": "residential", "name": name},
        "geometry": {"type": "LineString", "coordinates": coords},
    }


HORSEFERRY = street("Horseferry Road", [[-0.1360, 51.4956], [-0.1270, 51.4968]])
CAMDEN = street("Camden High Street", [[-0.1426, 51.5390], [-0.1400, 51.5360]])


def test_the_built_in_map_is_real_london_geography() -> None:
    london = basemap.load(basemap.BUILT_IN)
    names = {f["properties"]["name"] for f in london.features}
    assert {"Westminster", "Camden", "Hackney", "City of London"} <= names  # 33 boroughs
    assert {"Victoria line", "Northern line", "Jubilee line"} <= names
    west, south, east, north = london.bounds
    assert west < WESTMINSTER[0] < east and south < WESTMINSTER[1] < north
    # Westminster's boundary holds Horseferry Road (a point in polygon, ray casting).
    ring = next(
        f["geometry"]["coordinates"][0]
        for f in london.features
        if f["properties"]["name"] == "Westminster"
    )
    x, y = WESTMINSTER
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    assert inside


def test_only_the_features_of_the_view_are_sent() -> None:
    area = basemap.parse(json.dumps(collection(HORSEFERRY, CAMDEN)), name="test")
    near_horseferry = basemap.within(area, (-0.14, 51.49, -0.12, 51.50))
    assert [f["properties"]["name"] for f in near_horseferry["features"]] == ["Horseferry Road"]
    assert len(basemap.within(area, None)["features"]) == 2
    assert basemap.within(area, (1.0, 52.0, 1.1, 52.1))["features"] == []
    assert basemap.within(area, None)["bounds"] == [-0.1426, 51.4956, -0.127, 51.539]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ('{"type": "Feature"}', "must be a GeoJSON FeatureCollection"),
        (json.dumps(collection()), "has no features"),
        (
            json.dumps(collection({"type": "Feature", "geometry": {"type": "Circle"}})),
            "feature 0: geometry type 'Circle'",
        ),
        (
            json.dumps(collection(street("Grid", [[530000, 180000], [530100, 180000]]))),
            "reproject the file to EPSG:4326",
        ),
        (json.dumps(collection(street("Empty", []))), "feature 0: empty or malformed"),
        (json.dumps(collection(street("Short", [[-0.1], [-0.2]]))), "[longitude, latitude]"),
    ],
)
def test_a_bad_area_file_is_refused_with_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        basemap.parse(text)
    assert message in str(refused.value)


def test_map_check_describes_a_good_file_and_refuses_a_bad_one(tmp_path: Path) -> None:
    good = tmp_path / "area.geojson"
    good.write_text(json.dumps(collection(HORSEFERRY, CAMDEN, name="Our streets")))
    result = CliRunner().invoke(cli, ["map", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert "Our streets: 2 features" in result.output
    assert "LineString: 2" in result.output
    assert f"OVERT_MAP_AREA_FILE={good.resolve()}" in result.output
    bad = tmp_path / "grid.geojson"
    bad.write_text(json.dumps(collection(street("Grid", [[530000, 180000], [1, 1]]))))
    refused = CliRunner().invoke(cli, ["map", "check", str(bad)])
    assert refused.exit_code == 2 and "reproject" in refused.output
    missing = CliRunner().invoke(cli, ["map", "check", str(tmp_path / "none.geojson")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


@pytest.mark.django_db
def test_the_page_answers_the_configured_area_for_a_view(tmp_path: Path, settings_env) -> None:  # type: ignore[no-untyped-def]
    officer = client_for(people()[Role.OFFICER])
    built_in = officer.get("/map/base.geojson", {"bbox": "-0.14,51.49,-0.12,51.50"})
    assert built_in.status_code == 200
    names = {f["properties"]["name"] for f in built_in.json()["features"]}
    assert "Westminster" in names and "Hackney" not in names
    assert "Crown copyright" in built_in.json()["attribution"]
    area = tmp_path / "ours.geojson"
    area.write_text(json.dumps(collection(HORSEFERRY, CAMDEN, attribution="Our streets")))
    settings_env(map_area_file=str(area))
    ours = officer.get("/map/base.geojson", {"bbox": "-0.14,51.49,-0.12,51.50"}).json()
    assert [f["properties"]["name"] for f in ours["features"]] == ["Horseferry Road"]
    assert ours["attribution"] == "Our streets" and ours["truncated"] is False
    bad = officer.get("/map/base.geojson", {"bbox": "west,south"})
    assert bad.status_code == 400 and bad["Content-Type"].startswith("application/problem+json")
    assert "west,south,east,north" in bad.json()["detail"]
    settings_env(map_area_file=str(tmp_path / "gone.geojson"))
    gone = officer.get("/map/base.geojson")
    assert gone.status_code == 503 and "OVERT_MAP_AREA_FILE" in gone.json()["detail"]


@pytest.mark.django_db
def test_the_map_needs_a_signed_in_user() -> None:
    from django.test import Client

    response = Client().get("/map/base.geojson")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_grid_finds_exactly_what_reading_every_feature_finds() -> None:
    """The per-view answer uses a grid of cells; it must match the plain scan, for small
    features, ones across many cells and one larger than the grid's limit."""
    import random

    rng = random.Random(4)
    features = []
    for i in range(400):
        lon, lat = -0.6 + rng.random(), 51.2 + rng.random() * 0.6
        size = rng.choice([0.0005, 0.03, 0.2])
        features.append(street(f"s{i}", [[lon, lat], [lon + size, lat + size / 2]]))
    features.append(street("coast", [[-10.0, 49.0], [2.0, 59.0]]))
    area = basemap.parse(json.dumps(collection(*features)))
    assert area.big  # the coast is checked on every answer
    for _ in range(200):
        w, s = -0.7 + rng.random(), 51.1 + rng.random() * 0.7
        box = (w, s, w + rng.random() * 0.3, s + rng.random() * 0.2)
        expected = [
            f["properties"]["name"]
            for f, (fw, fs, fe, fn) in zip(area.features, area.boxes, strict=True)
            if fw <= box[2] and fe >= box[0] and fs <= box[3] and fn >= box[1]
        ]
        got = [f["properties"]["name"] for f in basemap.within(area, box)["features"]]
        assert got == expected
