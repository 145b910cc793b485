"""A small catalogue for the search tests: recordings with officers, devices, incidents,
categories, notes, bookmarks and transcripts (saved through the real service, with a
fabricated recogniser result: these tests are about search, not speech)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from overt.evidence.models import Category, Device, Incident, Marker, Officer, Original, Recording
from overt.transcripts.models import TranscriptVersion
from overt.transcripts.services import save_machine_transcript
from overt.transcripts.speech import Segment, Transcription, Word

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
PROVENANCE = {"model": "test", "model_sha256": "0" * 64, "faster_whisper": "x", "ctranslate2": "y"}


def spoken(text: str, start: float = 0.0, step: float = 0.5) -> Transcription:
    words = [
        Word(w, start + i * step, start + i * step + step * 0.8, 0.9)
        for i, w in enumerate(text.split())
    ]
    end = words[-1].end if words else 0.0
    return Transcription(
        "ok", "en", end + 1, words, [Segment(start, end, text)] if words else [], 1.0
    )


def make_recording(
    title: str,
    *,
    officer: tuple[str, str, str] = ("MP2210", "PC Tom Hughes", "Westminster BCU"),
    device: str = "AXW110-0104",
    incident: tuple[str, str] | None = None,
    notes: str = "",
    category: str | None = None,
    marker: str | None = None,
    said: str | None = None,
    said_at: float = 0.0,
    gps: list[tuple[float, float]] | None = None,
    minutes: int = 0,
) -> Recording:
    number, name, team = officer
    off, _ = Officer.objects.get_or_create(number=number, defaults={"name": name, "team": team})
    dev, _ = Device.objects.get_or_create(serial=device)
    inc = None
    if incident is not None:
        inc, _ = Incident.objects.get_or_create(
            reference=incident[0], defaults={"title": incident[1]}
        )
    when = START + timedelta(minutes=minutes)
    rec = Recording.objects.create(
        title=title,
        officer=off,
        device=dev,
        incident=inc,
        trigger_on_at=when,
        notes=notes,
        gps_track=[{"t": when.isoformat(), "lat": a, "lon": b} for a, b in gps or []],
        start_latitude=gps[0][0] if gps else None,
        start_longitude=gps[0][1] if gps else None,
    )
    if category:
        rec.categories.add(Category.objects.get_or_create(name=category)[0])
    if marker:
        Marker.objects.create(recording=rec, at=when, text=marker)
    original = Original.objects.create(
        sha256=hashlib.sha256(f"{title}:{minutes}".encode()).hexdigest(),
        size=1,
        recording=rec,
        filename="clip.mp4",
        source=Original.Source.CLI,
        playable=True,
        started_at=when,
        duration_s=60,
    )
    if said is not None:
        save_machine_transcript(original, spoken(said, said_at), PROVENANCE)
    return rec


def version_of(rec: Recording) -> TranscriptVersion:
    return TranscriptVersion.objects.get(original__recording=rec, number=1)


def another_clip(rec: Recording, text: str, n: int) -> Original:
    """Clip number `n` of `rec` (beside its first), saying `text`."""
    first = Original.objects.filter(recording=rec).order_by("pk").first()
    assert first is not None
    clip = Original.objects.create(
        sha256=hashlib.sha256(f"clip {rec.pk} {n}".encode()).hexdigest(),
        size=1,
        recording=rec,
        filename=f"clip{n}.mp4",
        source=first.source,
        playable=True,
        started_at=first.started_at,
        duration_s=60,
    )
    save_machine_transcript(clip, spoken(text), PROVENANCE)
    return clip
