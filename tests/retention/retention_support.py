"""Helpers for the retention tests: recordings with real bytes in a real store."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from overt.custody.services import Actor
from overt.evidence.models import Category, Derivative, Marker, Original, Recording
from overt.evidence.store import EvidenceStore
from overt.retention import services
from overt.retention.rules import Period

ACTOR = Actor("user", "evidence-manager")


def blob(label: str, size: int = 2048) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


@dataclass
class Made:
    recording: Recording
    objects: dict[str, bytes] = field(default_factory=dict)  # sha256 -> bytes

    @property
    def pk(self) -> int:
        return self.recording.pk


def make_recording(
    store: EvidenceStore,
    officer,
    device,
    recorded_at: datetime,
    *,
    label: str,
    categories: tuple[str, ...] = (),
    originals: int = 1,
    derivatives: bool = True,
    shared_poster: bytes | None = None,
) -> Made:
    """A recording as ingest makes it: originals and derivatives stored, a marker."""
    rec = Recording.objects.create(
        device=device, officer=officer, trigger_on_at=recorded_at, title=f"test {label}"
    )
    made = Made(rec)
    for i in range(originals):
        data = blob(f"{label}/original/{i}", 4096 + i)
        stored = store.put(io.BytesIO(data))
        made.objects[stored.sha256] = data
        original = Original.objects.create(
            sha256=stored.sha256,
            size=stored.size,
            recording=rec,
            filename=f"{label}-{i}.mp4",
            source=Original.Source.CLI,
            playable=True,
            started_at=recorded_at,
        )
        if derivatives:
            poster = shared_poster or blob(f"{label}/poster/{i}", 512)
            stored_poster = store.put(io.BytesIO(poster))
            made.objects[stored_poster.sha256] = poster
            Derivative.objects.create(
                original=original,
                kind=Derivative.Kind.POSTER,
                sha256=stored_poster.sha256,
                size=stored_poster.size,
                content_type="image/jpeg",
                generator="test",
                generator_version="1",
            )
    Marker.objects.create(recording=rec, at=recorded_at, text=f"marker {label}")
    for name in categories:
        rec.categories.add(Category.objects.get(name=name))
    return made


def standard_policies() -> None:
    """The defaults, on categories of the same name, plus a few custom ones."""
    from overt.retention.demo import ensure_default_policies

    ensure_default_policies()
    services.assign_policy("Non-evidential", "Non-evidential", actor=ACTOR)
    services.assign_policy("Evidential", "Evidential", actor=ACTOR)
    services.set_policy(
        "Traffic",
        period=Period(years=1),
        starts_from="recorded",
        at_expiry="review",
        actor=ACTOR,
    )
    services.assign_policy("Traffic", "Traffic", actor=ACTOR)
    services.set_policy(
        "Case closed",
        period=Period(days=90),
        starts_from="case-closed",
        at_expiry="delete",
        actor=ACTOR,
    )
    services.assign_policy("Case", "Case closed", actor=ACTOR)
    services.set_policy(
        "CPIA conviction",
        period=Period(months=6),
        starts_from="conviction",
        at_expiry="delete",
        actor=ACTOR,
    )
    services.assign_policy("Conviction", "CPIA conviction", actor=ACTOR)


def snapshot(rec_id: int, store: EvidenceStore) -> dict:
    """Everything a recovery must bring back: rows, categories, markers and bytes' hashes."""
    rec = Recording.objects.get(pk=rec_id)
    originals = list(rec.originals.order_by("pk").values_list("pk", "sha256", "size"))
    derivatives = list(
        Derivative.objects.filter(original__recording=rec)
        .order_by("pk")
        .values_list("pk", "sha256", "size", "kind")
    )
    return {
        "originals": originals,
        "derivatives": derivatives,
        "categories": sorted(rec.categories.values_list("name", flat=True)),
        "markers": list(rec.markers.values_list("at", "text")),
        "title": rec.title,
        "trigger_on_at": rec.trigger_on_at,
        "stored": {
            sha: store.rehash(sha)
            for sha in [o[1] for o in originals] + [d[1] for d in derivatives]
        },
    }


def consistent(store: EvidenceStore, purged: list[str]) -> None:
    """Catalogue and store agree: every catalogued object is stored, and every purged
    hash is gone from both."""
    for sha in Original.objects.values_list("sha256", flat=True):
        assert store.exists(sha), f"original {sha} is catalogued but not stored"
    for sha in Derivative.objects.values_list("sha256", flat=True):
        assert store.exists(sha), f"derivative {sha} is catalogued but not stored"
    for sha in purged:
        assert not store.exists(sha), f"{sha} was reported purged but is still stored"
        assert not Original.objects.filter(sha256=sha).exists()
        assert not Derivative.objects.filter(sha256=sha).exists()


@contextmanager
def deny_unlink(folder: Path) -> Iterator[None]:
    """Make unlinking in `folder` really fail: a read-only directory, or, for root (whom
    permissions do not stop), the immutable attribute."""
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)
        return
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if made.returncode != 0:
        message = f"cannot make {folder} immutable as root: {made.stderr.strip()}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
