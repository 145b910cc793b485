"""Which derivatives an original gets, and storing them with their provenance."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import IntegrityError

from overt.custody.services import Actor
from overt.evidence.models import Derivative, Original
from overt.evidence.store import EvidenceStore, get_store
from overt.jobs.services import enqueue

from . import derivatives
from .catalogue import Provenance, Requester, store_derivative

DERIVATIVE_JOBS: dict[str, str] = {
    Derivative.Kind.PROXY: "media.proxy",
    Derivative.Kind.POSTER: "media.poster",
    Derivative.Kind.SPRITE: "media.sprite",
    Derivative.Kind.WAVEFORM: "media.waveform",
    Derivative.Kind.TRANSCRIPT: "transcripts.transcribe",  # made by overt.transcripts.jobs
}
CONTENT_TYPES: dict[str, tuple[str, str]] = {
    Derivative.Kind.PROXY: ("video/mp4", ".mp4"),
    Derivative.Kind.POSTER: ("image/jpeg", ".jpg"),
    Derivative.Kind.SPRITE: ("image/jpeg", ".jpg"),
    Derivative.Kind.WAVEFORM: ("application/json", ".json"),
    Derivative.Kind.TRANSCRIPT: ("application/json", ".json"),
}
PROVENANCE = Provenance(derivatives.GENERATOR, derivatives.GENERATOR_VERSION)


def schedule_derivatives(original: Original) -> None:
    for kind, job_kind in DERIVATIVE_JOBS.items():
        enqueue(job_kind, f"original:{original.pk}", {"original": original.pk, "kind": kind})


def make_derivative(
    original_id: int,
    kind: str,
    build: Callable[[Path, Path], Any],
    store: EvidenceStore | None = None,
) -> Derivative:
    """Build one derivative from the stored original, store it, catalogue it. Idempotent."""
    store = store or get_store()
    original = Original.objects.get(pk=original_id)
    existing = Derivative.objects.filter(original=original, kind=kind).first()
    if existing is not None:
        return existing
    content_type, suffix = CONTENT_TYPES[kind]
    with (
        store.local_copy(original.sha256) as source,
        tempfile.TemporaryDirectory(prefix="overt-derive-") as tmp,
    ):
        target = Path(tmp) / f"{kind}{suffix}"
        facts = _jsonable(build(source, target))
        try:
            return store_derivative(
                original,
                kind,
                target,
                content_type=content_type,
                provenance=PROVENANCE,
                facts=facts,
                requester=Requester(Actor.system("media"), {"original": original.pk}),
                store=store,
            )
        except IntegrityError:  # a concurrent attempt won; its row stands
            return Derivative.objects.get(original=original, kind=kind)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return value.name
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
