"""Clips and stills a reviewer asks for: checked, queued as jobs, cut from the stored
original by the media cutter (overt.media.cutting, overt.media.pictures), and stored as
derivatives with their provenance and a `derivative-create` custody entry in the same
transaction (overt.media.catalogue). The original is only ever read."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from overt.custody.services import Actor, Client
from overt.errors import Invalid
from overt.evidence.models import Derivative, Original, Recording
from overt.evidence.store import EvidenceStore, get_store
from overt.jobs.models import Job
from overt.jobs.services import enqueue
from overt.media import cutting, pictures
from overt.media.catalogue import Provenance, Requester, store_derivative

CLIP_JOB, STILL_JOB = "review.clip", "review.still"
MAX_LABEL = 200
PROVENANCE = Provenance(cutting.GENERATOR, cutting.GENERATOR_VERSION)


class DeriveError(Invalid, ValueError):
    """The request cannot be met; the message says why (shown to the reviewer)."""


@dataclass(frozen=True, slots=True)
class Requested:
    job: Job
    created: bool  # False: the same clip or still was asked for before


def request_clip(
    recording: Recording,
    original: Original,
    in_s: float,
    out_s: float,
    *,
    username: str,
    label: str = "",
    client: Client | None = None,
) -> Requested:
    """Queue a clip of `original` from `in_s` to `out_s` (seconds on its timeline)."""
    _check_original(recording, original)
    duration = original.duration_s or 0.0
    if not 0 <= in_s <= out_s:
        raise DeriveError("the out-point must not come before the in-point")
    if in_s > duration:
        raise DeriveError(f"the in-point is after the end of the clip ({duration:.3f} s)")
    if out_s - in_s > cutting.MAX_CLIP_S:
        raise DeriveError(f"a clip may be at most {cutting.MAX_CLIP_S / 3600:.0f} hours long")
    subject = f"original:{original.pk}:{round(in_s * 1000)}-{round(out_s * 1000)}"
    return _enqueue(
        CLIP_JOB,
        subject,
        {
            "original": original.pk,
            "in_s": in_s,
            "out_s": out_s,
            "label": label[:MAX_LABEL],
            "requested_by": username,
            "client": dataclasses.asdict(client) if client else None,
        },
    )


def request_still(
    recording: Recording,
    original: Original,
    at_s: float,
    *,
    username: str,
    label: str = "",
    client: Client | None = None,
) -> Requested:
    """Queue a PNG of the picture shown at `at_s` (seconds on the original's timeline)."""
    _check_original(recording, original)
    duration = original.duration_s or 0.0
    if not 0 <= at_s <= duration + 0.001:
        raise DeriveError(f"the moment must lie within the clip (0 to {duration:.3f} s)")
    subject = f"original:{original.pk}:{round(at_s * 1000)}"
    return _enqueue(
        STILL_JOB,
        subject,
        {
            "original": original.pk,
            "at_s": at_s,
            "label": label[:MAX_LABEL],
            "requested_by": username,
            "client": dataclasses.asdict(client) if client else None,
        },
    )


def made_by(job: Job) -> Derivative | None:
    """The clip or still a job made, once it has."""
    return Derivative.objects.filter(kind__in=["clip", "still"], facts__job=job.pk).first()


def _check_original(recording: Recording, original: Original) -> None:
    if original.recording_id != recording.pk:
        raise DeriveError(f"original {original.pk} is not part of recording {recording.pk}")
    if not original.playable:
        raise DeriveError(f"original {original.pk} is not playable: {original.problem}")


def _enqueue(kind: str, subject: str, params: dict[str, Any]) -> Requested:
    with transaction.atomic():
        before = Job.objects.filter(key=f"{kind}:{subject}").exists()
        job = enqueue(kind, subject, params)
    return Requested(job, not before)


# --- the jobs' work ------------------------------------------------------------------


def make_clip(
    params: dict[str, Any], progress: Callable[[float], None] | None = None
) -> Derivative:
    original = Original.objects.get(pk=params["original"])
    in_s, out_s = float(params["in_s"]), float(params["out_s"])

    def build(src: Path, dst: Path) -> cutting.ClipResult:
        return cutting.make_clip(src, dst, in_s, out_s, progress=progress)

    return _store(original, Derivative.Kind.CLIP, "video/mp4", ".mp4", build, params)


def make_still(params: dict[str, Any]) -> Derivative:
    original = Original.objects.get(pk=params["original"])
    at_s = float(params["at_s"])

    def build(src: Path, dst: Path) -> pictures.StillResult:
        return pictures.make_still(src, dst, at_s)

    return _store(original, Derivative.Kind.STILL, "image/png", ".png", build, params)


def _store(
    original: Original,
    kind: str,
    content_type: str,
    suffix: str,
    build: Callable[[Path, Path], Any],
    params: dict[str, Any],
    store: EvidenceStore | None = None,
) -> Derivative:
    job_id = params.get("job")
    if job_id is not None:
        existing = Derivative.objects.filter(kind=kind, facts__job=job_id).first()
        if existing is not None:  # a retried job whose first attempt got this far
            return existing
    store = store or get_store()
    requested_by = params.get("requested_by") or ""
    actor = Actor("user", requested_by) if requested_by else Actor.system("review")
    client = Client(**params["client"]) if params.get("client") else None
    ids = {"recording": original.recording_id, "original": original.pk}
    with (
        local_original(store, original) as source,
        tempfile.TemporaryDirectory(prefix="overt-review-") as tmp,
    ):
        target = Path(tmp) / f"{kind}{suffix}"
        result = dataclasses.asdict(build(source, target))
        facts = {
            **result,
            "source_sha256": original.sha256,
            "label": params.get("label", ""),
            "requested_by": params.get("requested_by", ""),
            "job": job_id,
        }
        return store_derivative(
            original,
            kind,
            target,
            content_type=content_type,
            provenance=PROVENANCE,
            facts=facts,
            requester=Requester(actor, ids, client),
            details={
                "source_sha256": original.sha256,
                **_range_details(kind, result),
                "label": facts["label"],
                "job": job_id,
            },
            store=store,
        )


def _range_details(kind: str, result: dict[str, Any]) -> dict[str, Any]:
    if kind == Derivative.Kind.CLIP:
        keys: tuple[str, ...] = ("method", "in_s", "out_s", "first_frame", "last_frame", "frames")
        keys += ("reencoded_frames", "copied_frames")
    else:
        keys = ("at_s", "frame")
    return {key: result[key] for key in keys}


def local_original(store: EvidenceStore, original: Original) -> AbstractContextManager[Path]:
    return store.local_copy(original.sha256)
