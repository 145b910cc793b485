"""Where a recording was: does its GPS track (or, without one, its start point) enter a
box or come within a radius of a point? Pure geometry, plus one catalogue query.

Each recording's bounds (its track's fixes, or its start point when the track has no
fix) are kept by the database in `evidence_track_bounds` (migration evidence 0007). A
place query reads the bounds that meet the place: bounds wholly inside are a match with
no further work; for the rest, the fixes themselves are checked here. So a track that
enters the place is found wherever it starts, and with no start point at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeGuard

from django.db import connection

from .models import Recording

EARTH_M = 6_371_000.0
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


def fixes(track: object) -> list[tuple[float, float]]:
    """The (lat, lon) of each fix in a stored track: an object whose lat and lon are
    numbers in range (as migration 0007's triggers read it); anything else is skipped."""
    out = []
    for p in track if isinstance(track, list) else []:
        if not isinstance(p, dict):
            continue
        lat, lon = p.get("lat"), p.get("lon")
        if _number(lat) and _number(lon) and -90 <= lat <= 90 and -180 <= lon <= 180:
            out.append((float(lat), float(lon)))
    return out


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def enters(place: Place, track: object, start: tuple[float | None, float | None]) -> bool:
    points = fixes(track)
    if not points and start[0] is not None and start[1] is not None:
        points = [(start[0], start[1])]
    return any(place.contains(lat, lon) for lat, lon in points)


def covers(place: Place, south: float, west: float, north: float, east: float) -> bool:
    """Whether the place holds the whole of these bounds (so every fix is inside). A
    circle holds a box when it holds its four corners (on this scale a circle is convex)."""
    corners = ((south, west), (south, east), (north, west), (north, east))
    return all(place.contains(lat, lon) for lat, lon in corners)


BOUNDS_TABLE = "evidence_track_bounds"
CHUNK = 500


def recordings_in_place(place: Place) -> list[int]:
    """Ids of the recordings whose track (or, without a fix, start point) enters `place`."""
    sql = (
        f"SELECT recording_id, south, west, north, east FROM {BOUNDS_TABLE} "  # noqa: S608
        "WHERE south <= %s AND north >= %s AND west <= %s AND east >= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [place.north, place.south, place.east, place.west])
        rows = cursor.fetchall()
    found = [row[0] for row in rows if covers(place, *row[1:])]
    partly = [row[0] for row in rows if not covers(place, *row[1:])]
    for start in range(0, len(partly), CHUNK):
        tracks = Recording.objects.filter(pk__in=partly[start : start + CHUNK]).values_list(
            "pk", "gps_track", "start_latitude", "start_longitude"
        )
        found += [pk for pk, track, lat, lon in tracks if enters(place, track, (lat, lon))]
    return sorted(found)
