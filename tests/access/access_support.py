"""Scenes for the access tests: officers, teams and recordings with real stored bytes."""

from __future__ import annotations

import hashlib
import io
import itertools
from datetime import UTC, datetime, timedelta

from overt.evidence.models import Derivative, Device, Incident, Officer, Original, Recording
from overt.evidence.store import get_store

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
_counter = itertools.count()


def people() -> dict[str, Officer]:
    """MP1 and MP2 in team Alpha, MP3 in team Bravo."""
    return {
        "MP1": Officer.objects.get_or_create(
            number="MP1", defaults={"name": "PC One", "team": "Alpha"}
        )[0],
        "MP2": Officer.objects.get_or_create(
            number="MP2", defaults={"name": "PC Two", "team": "Alpha"}
        )[0],
        "MP3": Officer.objects.get_or_create(
            number="MP3", defaults={"name": "PC Three", "team": "Bravo"}
        )[0],
    }


def recording(
    officer: Officer, title: str, *, incident: Incident | None = None, salt: str = ""
) -> Recording:
    """A recording with one stored original, a stored poster and a stored proxy."""
    device, _ = Device.objects.get_or_create(serial="CAM-ACCESS")
    n = next(_counter)
    rec = Recording.objects.create(
        title=title,
        officer=officer,
        device=device,
        incident=incident,
        trigger_on_at=START + timedelta(minutes=n),
    )
    store = get_store()

    def put(kind: str) -> tuple[str, int]:
        data = hashlib.sha256(f"{salt}:{title}:{n}:{kind}".encode()).digest() * 64
        stored = store.put(io.BytesIO(data))
        return stored.sha256, stored.size

    sha, size = put("original")
    original = Original.objects.create(
        sha256=sha,
        size=size,
        recording=rec,
        filename="clip.mp4",
        source=Original.Source.CLI,
        playable=True,
        started_at=rec.trigger_on_at,
        duration_s=2.0,
    )
    for kind, content_type in (("poster", "image/jpeg"), ("proxy", "video/mp4")):
        dsha, dsize = put(kind)
        Derivative.objects.create(
            original=original,
            kind=kind,
            sha256=dsha,
            size=dsize,
            content_type=content_type,
            generator="test",
            generator_version="1",
        )
    return rec


def incident(reference: str) -> Incident:
    return Incident.objects.get_or_create(reference=reference, defaults={"title": "Shooting"})[0]
