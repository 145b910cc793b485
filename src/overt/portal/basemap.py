"""The offline base map under the GPS tracks: vector features (GeoJSON) of the force's
area, served by overt itself so a map needs nothing from outside.

By default the built-in London map (static/portal/map/london.geojson: borough boundaries
and Underground lines, see tools/make_basemap.py). A force points OVERT_MAP_AREA_FILE
at a GeoJSON FeatureCollection of its own area (streets, rivers, boundaries: any lines,
polygons and points in WGS84), checked first with `overt map check FILE`. Each request
asks for the features that touch the view's box, so a city's streets are sent a view at
a time, not whole."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from overt.conf import get_settings
from overt.errors import Invalid, Unavailable

BUILT_IN = Path(__file__).parent / "static" / "portal" / "map" / "london.geojson"
# Short enough for a small map's corner; the full statements are in docs/portal.md.
BUILT_IN_ATTRIBUTION = (
    "Boroughs © Crown copyright 2015 (OGL); lines © OpenStreetMap contributors (ODbL)"
)
GEOMETRIES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
MAX_FEATURES = 20_000  # per answer: a view wider than this many features is cut short
MAX_BYTES = 512 * 1024 * 1024
Box = tuple[float, float, float, float]  # west, south, east, north


CELL = 0.02  # degrees: the grid that finds a view's features without reading them all
BIG = 256  # a feature over more cells than this (a coastline) is checked on every answer


def _cells(box: Box) -> Iterator[tuple[int, int]]:
    for x in range(math.floor(box[0] / CELL), math.floor(box[2] / CELL) + 1):
        for y in range(math.floor(box[1] / CELL), math.floor(box[3] / CELL) + 1):
            yield x, y


def _span(box: Box) -> int:
    return (math.floor(box[2] / CELL) - math.floor(box[0] / CELL) + 1) * (
        math.floor(box[3] / CELL) - math.floor(box[1] / CELL) + 1
    )


@dataclass(frozen=True)
class BaseMap:
    name: str
    attribution: str
    features: list[dict[str, Any]]
    boxes: list[Box]  # one per feature, same order
    grid: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    big: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i, box in enumerate(self.boxes):
            if _span(box) > BIG:
                self.big.append(i)
                continue
            for cell in _cells(box):
                self.grid.setdefault(cell, []).append(i)

    def near(self, box: Box) -> list[int]:
        """Indexes of the features that may touch the box (the grid's cells, and the big
        ones), in file order."""
        if _span(box) > 4 * len(self.grid) + BIG:
            return list(range(len(self.features)))  # a view wider than the grid is useful
        found = set(self.big)
        for cell in _cells(box):
            found.update(self.grid.get(cell, ()))
        return sorted(found)

    @cached_property  # read on every answer
    def bounds(self) -> Box:
        return (
            min(b[0] for b in self.boxes),
            min(b[1] for b in self.boxes),
            max(b[2] for b in self.boxes),
            max(b[3] for b in self.boxes),
        )


def _positions(coords: Any, depth: int, where: str) -> list[tuple[float, float]]:
    """The geometry's [lon, lat] positions, checked for shape and range."""
    if depth == 0:
        if (
            not isinstance(coords, list)
            or len(coords) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in coords)
        ):
            raise Invalid(f"{where}: a position must be [longitude, latitude]", field="file")
        lon, lat = float(coords[0]), float(coords[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise Invalid(
                f"{where}: [{lon}, {lat}] is not a longitude and latitude in WGS84 degrees "
                "(reproject the file to EPSG:4326 first)",
                field="file",
            )
        return [(lon, lat)]
    if not isinstance(coords, list) or not coords:
        raise Invalid(f"{where}: empty or malformed coordinates", field="file")
    return [p for part in coords for p in _positions(part, depth - 1, where)]


DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def parse(text: str | bytes, name: str = "") -> BaseMap:
    """A base map from GeoJSON text, or Invalid saying what is wrong and where."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"not JSON: {exc}", field="file") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise Invalid("the file must be a GeoJSON FeatureCollection", field="file")
    features, boxes = [], []
    for i, feature in enumerate(data.get("features") or []):
        where = f"feature {i}"
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict):
            raise Invalid(f"{where}: not a Feature with a geometry", field="file")
        kind = geometry.get("type")
        if kind not in GEOMETRIES:
            raise Invalid(
                f"{where}: geometry type {kind!r} is not one of {', '.join(sorted(GEOMETRIES))}",
                field="file",
            )
        points = _positions(geometry.get("coordinates"), DEPTH[str(kind)], where)
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        props = feature.get("properties")
        features.append(
            {
                "type": "Feature",
                "properties": props if isinstance(props, dict) else {},
                "geometry": {"type": kind, "coordinates": geometry["coordinates"]},
            }
        )
        boxes.append((min(lons), min(lats), max(lons), max(lats)))
    if not features:
        raise Invalid("the FeatureCollection has no features", field="file")
    attribution = data.get("attribution")
    return BaseMap(
        name=str(data.get("name") or name),
        attribution=attribution if isinstance(attribution, str) else "",
        features=features,
        boxes=boxes,
    )


def load(path: Path) -> BaseMap:
    """The base map in a file, or Invalid (missing, too large, not GeoJSON, out of range)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Invalid(f"cannot read {path}: {exc.strerror}", field="file") from exc
    if size > MAX_BYTES:
        raise Invalid(f"{path} is over {MAX_BYTES // 2**20} MiB", field="file")
    return parse(path.read_bytes(), name=path.stem)


@lru_cache(maxsize=2)
def _cached(path: str, mtime_ns: int) -> BaseMap:
    found = load(Path(path))
    if path == str(BUILT_IN):
        return BaseMap(found.name, BUILT_IN_ATTRIBUTION, found.features, found.boxes)
    return found


def current() -> BaseMap:
    """The configured area's map (OVERT_MAP_AREA_FILE), else the built-in London one;
    read once and kept until the file changes."""
    configured = get_settings().map_area_file
    path = Path(configured) if configured else BUILT_IN
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise Unavailable(f"OVERT_MAP_AREA_FILE: cannot read {path}: {exc.strerror}") from exc
    return _cached(str(path), mtime)


def parse_box(text: str) -> Box | None:
    """'west,south,east,north' in degrees, or None for the whole map."""
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise Invalid("bbox must be west,south,east,north in degrees", field="bbox") from exc
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise Invalid("bbox must have west <= east and south <= north, in range", field="bbox")
    return (west, south, east, north)


def within(basemap: BaseMap, box: Box | None) -> dict[str, Any]:
    """The features whose bounds touch the box, as a FeatureCollection; `truncated` says
    the view held more than MAX_FEATURES (zoom in to see the rest)."""
    if box is None:
        chosen = basemap.features
    else:
        chosen = []
        for i in basemap.near(box):
            w, s, e, n = basemap.boxes[i]
            if w <= box[2] and e >= box[0] and s <= box[3] and n >= box[1]:
                chosen.append(basemap.features[i])
    return {
        "type": "FeatureCollection",
        "name": basemap.name,
        "attribution": basemap.attribution,
        "bounds": list(basemap.bounds),
        "truncated": len(chosen) > MAX_FEATURES,
        "features": chosen[:MAX_FEATURES],
    }
