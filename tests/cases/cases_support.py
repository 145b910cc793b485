"""Scenes for the cases tests: people with roles, and recordings from two incidents with
real stored footage (an original and its browser proxy), so playback can be watermarked."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from PIL import Image

from overt.access.matrix import Role
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Derivative, Device, Incident, Officer, Original, Recording
from overt.evidence.store import get_store
from overt.media.catalogue import Provenance, Requester, catalogue_derivative
from overt.testing.access import make_user

START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
_n = itertools.count()


@dataclass
class Scene:
    manager: Any
    investigator: Any
    prosecutor: Any
    outsider: Any
    recordings: list[Recording]


def footage(clips: dict[str, Path], tmp: Path) -> tuple[Path, Path]:
    """The session's small real clip, and a proxy made of it (made once per folder)."""
    from overt.media.derivatives import make_proxy

    proxy = tmp / "proxy.mp4"
    if not proxy.exists():
        make_proxy(clips["good"], proxy)
    return clips["good"], proxy


def recording(
    officer: Officer, title: str, original: Path, proxy: Path, incident: Incident
) -> Recording:
    device, _ = Device.objects.get_or_create(serial="CAM-CASES")
    n = next(_n)
    rec = Recording.objects.create(
        title=title,
        officer=officer,
        device=device,
        incident=incident,
        trigger_on_at=START + timedelta(minutes=n),
    )
    store = get_store()
    # Each recording's original differs by a trailing byte run, as two clips would.
    stored = store.put(io.BytesIO(original.read_bytes() + f"{title}:{n}".encode()))
    orig = Original.objects.create(
        sha256=stored.sha256,
        size=stored.size,
        recording=rec,
        filename=f"clip{n}.mp4",
        source=Original.Source.CLI,
        playable=True,
        started_at=rec.trigger_on_at,
        duration_s=2.0,
    )
    with transaction.atomic():  # as ingest records it: the custody report needs it
        record(
            "ingest",
            Actor.system("test"),
            Subject(orig.sha256, {"original": orig.pk, "recording": rec.pk}),
            details={"size": orig.size, "filename": orig.filename},
        )
    p = store.put(io.BytesIO(proxy.read_bytes()))
    if not Derivative.objects.filter(original=orig, kind="proxy").exists():
        Derivative.objects.create(
            original=orig,
            kind="proxy",
            sha256=p.sha256,
            size=p.size,
            content_type="video/mp4",
            generator="test",
            generator_version="1",
        )
    poster = store.put(io.BytesIO(_png(32, 18)))
    Derivative.objects.create(
        original=orig,
        kind="poster",
        sha256=poster.sha256,
        size=poster.size,
        content_type="image/png",
        generator="test",
        generator_version="1",
    )
    return rec


def _png(width: int, height: int, shade: int = 90) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (shade, shade, shade)).save(out, format="PNG")
    return out.getvalue()


def still_of(rec: Recording) -> Derivative:
    """A still of the recording, catalogued as review does (with its derivative-create entry)."""
    original = rec.originals.get()
    stored = get_store().put(io.BytesIO(_png(320, 180, 120 + rec.pk % 50)))
    return catalogue_derivative(
        original,
        "still",
        stored,
        content_type="image/png",
        provenance=Provenance("test-still", "1"),
        facts={"at_s": 1.0},
        requester=Requester(Actor("user", "em"), {"recording": rec.pk, "original": original.pk}),
    )


def scene(clips: dict[str, Path], tmp: Path) -> Scene:
    original, proxy = footage(clips, tmp)
    mp1 = Officer.objects.get_or_create(number="MP1", defaults={"name": "PC One", "team": "Alpha"})[
        0
    ]
    mp3 = Officer.objects.get_or_create(
        number="MP3", defaults={"name": "PC Three", "team": "Bravo"}
    )[0]
    first = Incident.objects.get_or_create(reference="CAD 100/20NOV")[0]
    second = Incident.objects.get_or_create(reference="CAD 200/21NOV")[0]
    recordings = [
        recording(mp1, "Arrest on High Street", original, proxy, first),
        recording(mp3, "Search of vehicle", original, proxy, first),
        recording(mp3, "Interview at the station", original, proxy, second),
    ]
    return Scene(
        manager=make_user("em", Role.EVIDENCE_MANAGER),
        investigator=make_user("det", Role.INVESTIGATOR),
        prosecutor=make_user("cps", Role.PROSECUTOR),
        outsider=make_user("other-det", Role.INVESTIGATOR),
        recordings=recordings,
    )


def transcript_of(rec: Recording) -> Derivative:
    """A machine transcript of the recording, catalogued as the transcripts stage does."""
    original = rec.originals.get()
    body = b'{"format": "overt-transcript/1", "words": [["stop", 0.5, 0.8, 0.9]]}\n'
    stored = get_store().put(io.BytesIO(body + str(rec.pk).encode()))
    return catalogue_derivative(
        original, "transcript", stored, content_type="application/json",
        provenance=Provenance("test-asr", "1"), facts={"version": 1},
        requester=Requester(Actor.system("transcripts"), {"recording": rec.pk}),
    )  # fmt: skip
