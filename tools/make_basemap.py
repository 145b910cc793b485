"""Build overt's built-in base map (src/overt/portal/basemap/london.geojson) from the
London files of the npm package vega-datasets: borough boundaries (TopoJSON, UK Open
Government Licence, Crown copyright) and London Underground lines (TopoJSON, ODbL,
OpenStreetMap contributors). Run once by hand when the source changes:

    npm pack vega-datasets@3.2.1 && tar xzf vega-datasets-3.2.1.tgz
    python tools/make_basemap.py package/data src/overt/portal/basemap/london.geojson

TopoJSON is decoded from its public specification: quantised, delta-encoded arcs, and
geometries that list arc indexes (a negative index is the reversed arc ~i)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

Point = list[float]


def decode(path: Path) -> list[tuple[str, str, str, Any]]:
    """(object name, geometry id, geometry type, coordinates) for each geometry."""
    topology = json.loads(path.read_text())
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs: list[list[Point]] = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append([round(x * sx + tx, 5), round(y * sy + ty, 5)])
        arcs.append(points)

    def line(ids: list[int]) -> list[Point]:
        out: list[Point] = []
        for i in ids:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            out.extend(arc if not out else arc[1:])
        return out

    found = []
    for name, collection in topology["objects"].items():
        for geometry in collection["geometries"]:
            kind, parts = geometry["type"], geometry["arcs"]
            if kind == "LineString":
                coords: Any = line(parts)
            elif kind in ("MultiLineString", "Polygon"):
                coords = [line(p) for p in parts]
            elif kind == "MultiPolygon":
                coords = [[line(r) for r in p] for p in parts]
            else:
                continue
            found.append((name, str(geometry.get("id", "")), kind, coords))
    return found


def main(source: Path, target: Path) -> None:
    features: list[dict[str, Any]] = []
    for _, name, kind, coords in decode(source / "londonBoroughs.json"):
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "area", "name": name},
                "geometry": {"type": kind, "coordinates": coords},
            }
        )
    lines: dict[str, list[list[Point]]] = {}
    for _, name, kind, coords in decode(source / "londonTubeLines.json"):
        lines.setdefault(name, []).extend([coords] if kind == "LineString" else coords)
    for name, parts in sorted(lines.items()):
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "rail", "name": f"{name} line"},
                "geometry": {"type": "MultiLineString", "coordinates": parts},
            }
        )
    collection = {
        "type": "FeatureCollection",
        "name": "London: boroughs and Underground lines",
        "attribution": "Contains National Statistics and Ordnance Survey data © Crown "
        "copyright and database right 2015 (OGL v3); Underground lines © OpenStreetMap "
        "contributors (ODbL), via vega-datasets",
        "features": features,
    }
    target.write_text(json.dumps(collection, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
