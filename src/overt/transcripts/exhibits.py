"""Transcripts in an exhibit package: for each original, every version of its transcript
as stored (JSON: the derivative's exact bytes, so its SHA-256 is the catalogued one) and
as WebVTT captions, with transcripts/index.json naming each file's hash and provenance
(the model, its hash and the library versions; who corrected what, when and why)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence

from overt.evidence.models import Original
from overt.evidence.store import get_store

from .captions import webvtt
from .models import TranscriptVersion
from .services import timed_words


def exhibit_files(
    originals: Sequence[Original], exhibit_name: Callable[[Original], str]
) -> list[tuple[str, bytes]]:
    """(path inside the package, bytes) for the transcripts of `originals`; none if none."""
    versions = list(
        TranscriptVersion.objects.filter(original__in=originals)
        .select_related("derivative", "original")
        .order_by("original_id", "number")
    )
    if not versions:
        return []
    store = get_store()
    files: list[tuple[str, bytes]] = []
    index = []
    for version in versions:
        stem = f"transcripts/{exhibit_name(version.original)}.transcript-v{version.number}"
        stored = b"".join(store.read_range(version.derivative.sha256))
        captions = webvtt(
            timed_words(version),
            note=f"transcript v{version.number} of {version.original.filename}",
        ).encode()
        files += [(f"{stem}.json", stored), (f"{stem}.vtt", captions)]
        index.append(
            {
                "original": {
                    "sha256": version.original.sha256,
                    "filename": version.original.filename,
                },
                "version": version.number,
                "status": version.status,
                "author": version.author or "machine",
                "created_at": version.created_at.isoformat().replace("+00:00", "Z"),
                "note": version.note,
                "json": {"path": f"{stem}.json", "sha256": hashlib.sha256(stored).hexdigest()},
                "vtt": {"path": f"{stem}.vtt", "sha256": hashlib.sha256(captions).hexdigest()},
                "generator": version.derivative.generator,
                "generator_version": version.derivative.generator_version,
                "model": version.derivative.facts.get("model", ""),
                "model_sha256": version.derivative.facts.get("model_sha256", ""),
            }
        )
    body = json.dumps({"transcripts": index}, indent=2, ensure_ascii=False) + "\n"
    return [*files, ("transcripts/index.json", body.encode())]
