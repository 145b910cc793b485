"""Helpers for the oversight tests: officers, recordings and deployments files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from overt.custody.services import Actor
from overt.evidence.models import Device, Officer, Original, Recording

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
ACTOR = Actor("user", "oversight-test")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def z(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def officer(number: str, team: str = "SCO19") -> Officer:
    return Officer.objects.get_or_create(
        number=number, defaults={"name": f"Officer {number}", "team": team}
    )[0]


def recording(
    who: Officer,
    on: datetime,
    off: datetime | None,
    *,
    pre_event: float = 0.0,
    offset: float | None = None,
    place: tuple[float, float] | None = None,
    audio: bool = True,
    sha: str | None = None,
) -> Recording:
    device = Device.objects.get_or_create(serial=f"CAM-{who.number}")[0]
    rec = Recording.objects.create(
        device=device,
        officer=who,
        trigger_on_at=on,
        trigger_off_at=off,
        pre_event_seconds=pre_event,
        start_latitude=place[0] if place else None,
        start_longitude=place[1] if place else None,
        title=f"{who.number} {on:%H:%M}",
    )
    if offset is not None:
        rec.clock_offset_s = offset
        rec.save(update_fields=["clock_offset_s"])
    Original.objects.create(
        sha256=sha or f"{rec.pk:064x}",
        size=1,
        recording=rec,
        filename=f"{rec.pk}.mp4",
        source="demo",
        playable=True,
        audio_codec="aac" if audio else "",
        started_at=on,
        stopped_at=off,
    )
    return rec


def deployment(
    reference: str,
    officers: list[dict[str, Any]],
    *,
    arrived: datetime = T0,
    ended: datetime | None = None,
    borough: str = "Westminster",
    team: str = "SCO19",
    kind: str = "armed-deployment",
    location: dict[str, float] | None = None,
) -> dict[str, Any]:
    return {
        "reference": reference,
        "type": kind,
        "borough": borough,
        "team": team,
        "authorised_at": z(arrived - timedelta(minutes=5)),
        "arrived_at": z(arrived),
        "ended_at": z(ended or arrived + timedelta(minutes=30)),
        "location": location if location is not None else {"lat": 51.4977, "lon": -0.1415},
        "officers": officers,
    }


def attending(
    number: str, arrived: datetime | None = None, departed: datetime | None = None
) -> dict[str, Any]:
    return {"number": number, "arrived_at": z(arrived), "departed_at": z(departed)}


def as_file(items: list[dict[str, Any]]) -> bytes:
    return json.dumps(items).encode()
