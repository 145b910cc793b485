"""Where a recording was: does its GPS track (or, without one, its start point) enter a
box or come within a radius of a point? Pure geometry, plus one catalogue query.

A recording's start point is an indexed pair of columns; its track is a JSON list. The
query narrows to recordings that start within PREFILTER_KM of the place, then checks
their track points here: a body-worn camera's wearer is on foot or in a car for a short
activation, so a track that enters the place but starts further away than that is not
found (docs/transcripts.md says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import QuerySet

from .models import Recording

EARTH_M = 6_371_000.0
PREFILTER_KM = 10.0
MAX_RADIUS_M = 50_000.0


@dataclass(frozen=True, slots=True)
class Place:
    """A box (south, west, north, east) or a circle (lat, lon, radius_m)."""

    south: float
    west: float
    north: float
    east: float
    centre: tuple[float, float] | None = None
    radius_m: float = 0.0

    def contains(self, lat: float, lon: float) -> bool:
        if self.centre is not None:
            return distance_m(self.centre[0], self.centre[1], lat, lon) <= self.radius_m
        return self.south <= lat <= self.north and self.west <= lon <= self.east


def _numbers(text: str, count: int, what: str) -> list[float]:
    parts = text.split(",")
    if len(parts) != count:
        raise ValueError(f"expected {what}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"expected {what}") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"expected {what}")
    return values


def parse_box(text: str) -> Place:
    south, west, north, east = _numbers(text, 4, "south,west,north,east in degrees")
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ValueError("the box must have south < north and west < east, in range")
    return Place(south, west, north, east)


def parse_near(text: str) -> Place:
    lat, lon, radius = _numbers(text, 3, "lat,lon,radius in metres")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("latitude or longitude out of range")
    if not 0 < radius <= MAX_RADIUS_M:
        raise ValueError(f"the radius must be more than 0 and at most {MAX_RADIUS_M:.0f} m")
    dlat = math.degrees(radius / EARTH_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    return Place(lat - dlat, lon - dlon, lat + dlat, lon + dlon, (lat, lon), radius)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(a)))


def enters(place: Place, track: object, start: tuple[float | None, float | None]) -> bool:
    points = [
        (float(p["lat"]), float(p["lon"]))
        for p in (track if isinstance(track, list) else [])
        if isinstance(p, dict)
        and isinstance(p.get("lat"), int | float)
        and isinstance(p.get("lon"), int | float)
    ]
    if not points and start[0] is not None and start[1] is not None:
        points = [(start[0], start[1])]
    return any(place.contains(lat, lon) for lat, lon in points)


def candidates(place: Place) -> QuerySet[Recording]:
    margin = math.degrees(PREFILTER_KM * 1000 / EARTH_M)
    lon_margin = margin / max(math.cos(math.radians((place.south + place.north) / 2)), 0.01)
    return Recording.objects.filter(
        start_latitude__gte=place.south - margin,
        start_latitude__lte=place.north + margin,
        start_longitude__gte=place.west - lon_margin,
        start_longitude__lte=place.east + lon_margin,
    )


def recordings_in_place(place: Place) -> list[int]:
    rows = candidates(place).values_list("pk", "gps_track", "start_latitude", "start_longitude")
    return [pk for pk, track, lat, lon in rows.iterator(2000) if enters(place, track, (lat, lon))]
