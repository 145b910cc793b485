"""A recording's place, meaningfully: its GPS track drawn on the page's map (with the
point the player is at, moving with playback), how far it went, and a link to the other
recordings made near its start (the library's `near=` filter)."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from overt.conf import get_settings
from overt.evidence.models import Recording
from overt.evidence.places import distance_m

register = template.Library()
NEARBY_M = 200  # "other recordings near here": a street's length


def _points(recording: Recording) -> list[tuple[float, float, float]]:
    """(epoch seconds, lat, lon) of the track, in time order; a start point alone if the
    camera logged no track."""
    out = []
    for point in recording.gps_track or []:
        try:
            at = datetime.fromisoformat(str(point["t"]).replace("Z", "+00:00")).timestamp()
            out.append((at, float(point["lat"]), float(point["lon"])))
        except (KeyError, TypeError, ValueError):
            continue
    if not out and recording.start_latitude is not None and recording.start_longitude is not None:
        out.append(
            (
                recording.trigger_on_at.timestamp(),
                recording.start_latitude,
                recording.start_longitude,
            )
        )
    return sorted(out)


@register.inclusion_tag("review/_place.html")
def place_panel(recording: Recording, clips: list[Any]) -> dict[str, Any]:
    points = _points(recording)
    if not points:
        return {"has_place": False}
    lat, lon = points[0][1], points[0][2]
    travelled = sum(distance_m(a[1], a[2], b[1], b[2]) for a, b in pairwise(points))
    starts = [
        {"player": c.player_id, "start": c.original.started_at.timestamp()}
        for c in clips
        if getattr(c, "original", None) is not None and c.original.started_at is not None
    ]
    title = recording.title or f"Recording {recording.pk}"
    settings = get_settings()
    return {
        "has_place": True,
        "lat": lat,
        "lon": lon,
        "travelled_m": travelled,
        "minutes": (points[-1][0] - points[0][0]) / 60,
        "near_url": reverse("library")
        + "?"
        + urlencode({"near": f"{lat:.5f},{lon:.5f},{NEARBY_M}"}),
        "nearby_m": NEARBY_M,
        "tracks": json.dumps(
            [{"id": recording.pk, "title": title, "points": [[p[1], p[2]] for p in points]}]
        ),
        "timed": json.dumps([[round(p[0], 3), p[1], p[2]] for p in points]),
        "clips": json.dumps(starts),
        "tiles": settings.map_tile_url,
        "attribution": settings.map_tile_attribution,
    }
