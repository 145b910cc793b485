"""Benchmark the offline base map's per-view answer (overt.portal.basemap).

Run: .venv/bin/python bench/basemap.py [--streets 200000]

A synthetic force area of N short streets (six points each) spread over 0.8° by 0.4° of
London, as a GeoJSON file of a size a force's street export has. Measures, CPU and wall
time, with the machine's load average printed beside them:
(a) reading and indexing the file (once per change of the file);
(b) one answer for a street-level view and a district-wide view: overt's grid of cells,
    against the peer, the plain scan of every feature's bounds (what it replaced).
Prints a markdown section; no assertions (the numbers are for the record).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from overt.portal import basemap

VIEWS = {
    "street-level (0.02° by 0.01°)": (-0.14, 51.49, -0.12, 51.50),
    "district (0.15° by 0.10°)": (-0.20, 51.45, -0.05, 51.55),
}


def area(streets: int) -> str:
    rng = random.Random(1)
    features = []
    for _ in range(streets):
        lon, lat = -0.5 + rng.random() * 0.8, 51.3 + rng.random() * 0.4
        line = [
            [round(lon + j * 3e-4, 6), round(lat + rng.uniform(-1, 1) * 3e-4, 6)] for j in range(6)
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {"highway": "residential"},
                "geometry": {"type": "LineString", "coordinates": line},
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features})


def scan(found: basemap.BaseMap, box: basemap.Box) -> list[dict[str, Any]]:
    """The peer: every feature's bounds checked against the view."""
    return [
        f
        for f, (w, s, e, n) in zip(found.features, found.boxes, strict=True)
        if w <= box[2] and e >= box[0] and s <= box[3] and n >= box[1]
    ]


def timed(fn: Callable[[], object], runs: int = 20) -> tuple[float, float]:
    """Median wall ms and mean CPU ms of one call."""
    walls = []
    cpu = time.process_time()
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        walls.append((time.perf_counter() - start) * 1000)
    return statistics.median(walls), (time.process_time() - cpu) * 1000 / runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streets", type=int, default=200_000)
    streets = parser.parse_args().streets
    text = area(streets)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    wall, cpu = time.perf_counter(), time.process_time()
    found = basemap.parse(text)
    read_wall, read_cpu = time.perf_counter() - wall, time.process_time() - cpu
    found.bounds  # noqa: B018 (computed once, then kept)
    print(f"{streets:,} streets, {len(text) / 1e6:.0f} MB; load average {load}")
    print(f"read and index: {read_wall:.1f} s wall, {read_cpu:.1f} s CPU\n")
    print("| view | features | grid wall ms | grid CPU ms | scan wall ms | scan CPU ms |")
    print("|---|---|---|---|---|---|")
    for name, box in VIEWS.items():
        grid = timed(lambda box=box: basemap.within(found, box))
        plain = timed(lambda box=box: scan(found, box))
        count = len(basemap.within(found, box)["features"])
        print(
            f"| {name} | {count:,} | {grid[0]:.1f} | {grid[1]:.1f} | {plain[0]:.1f} | "
            f"{plain[1]:.1f} |"
        )


if __name__ == "__main__":
    main()
