"""Redaction projects: create and detect (review: overt.redaction.editing; render:
overt.redaction.rendering). Every step is in the custody log.

The original is only ever read (from the store, or a scratch copy of a remote object).
A render writes a new file, signs it, stores it and catalogues it as a `redacted`
Derivative in one transaction with its custody entries; until that transaction commits
nothing of it exists, so an interrupted render leaves no derivative and can run again.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction

from overt.conf import get_settings
from overt.custody.services import Actor, Subject, record
from overt.errors import Invalid
from overt.evidence.models import Original
from overt.evidence.store import EvidenceStore, get_store
from overt.jobs.models import Job
from overt.jobs.services import enqueue

from .engine import tracking
from .engine.adhoc import CANDIDATE_FACTOR, DEFAULT_THRESHOLD, PLATE_EVERY
from .engine.detection import detect_video
from .engine.detectors import CenterFaceDetector, Detector, PlateCascadeDetector
from .engine.overlay import OverlayAware
from .engine.settings import named
from .models import Box, RedactionProject, Track

if TYPE_CHECKING:
    import numpy as np

Progress = Callable[[float, str], None]


class RedactionProblem(Invalid):
    """A request that cannot be honoured (bad box, wrong state); the message says why."""


def user_actor(username: str) -> Actor:
    return Actor("user", username or "unknown")


def project_subject(project: RedactionProject, **ids: int | str) -> Subject:
    return Subject(
        project.original.sha256,
        {"original": project.original_id, "redaction_project": project.pk, **ids},
    )


# --- projects and detection ---------------------------------------------------------


def create_project(
    original: Original,
    username: str,
    *,
    title: str = "",
    mode: str = "blur",
    margin: float = 0.3,
    faces: bool = True,
    plates: bool = False,
    stride: int = 3,
    max_height: int | None = None,
    detect: bool = True,
) -> RedactionProject:
    """Start a redaction project on an original and queue its detection job."""
    if not original.playable:
        raise RedactionProblem(
            f"{original.filename} cannot be redacted: it is not playable ({original.problem})"
        )
    with transaction.atomic():
        project = RedactionProject.objects.create(
            original=original,
            title=title,
            mode=mode,
            margin=margin,
            faces=faces,
            plates=plates,
            stride=stride,
            max_height=max_height,
            created_by=username,
        )
        record(
            "redaction",
            user_actor(username),
            project_subject(project),
            details={"step": "project-create", "title": title, "settings": project.settings()},
        )
        if detect:
            schedule_detection(project)
    return project


def schedule_detection(project: RedactionProject) -> Job:
    RedactionProject.objects.filter(pk=project.pk).update(
        detect_runs=project.detect_runs + 1, status=RedactionProject.Status.DETECTING
    )
    project.detect_runs += 1
    project.status = RedactionProject.Status.DETECTING
    return enqueue(
        "redaction.detect",
        f"redaction:{project.pk}:detect:{project.detect_runs}",
        {"project": project.pk},
    )


def detectors_for(project: RedactionProject) -> list[Detector]:
    """The detectors of the instance's redaction setting (OVERT_REDACTION_SETTING)."""
    knobs = named(get_settings().redaction_setting)
    detectors: list[Detector] = []
    if project.faces:
        detectors.append(
            CenterFaceDetector(
                max_width=knobs.detect_width,
                threshold=DEFAULT_THRESHOLD * CANDIDATE_FACTOR,
                tiles=knobs.engine_tiles(),
                threads=knobs.threads or None,
            )
        )
    if project.plates:
        detectors.append(OverlayAware(PlateCascadeDetector()))
    return detectors


def run_detection(project_id: int, progress: Progress | None = None) -> RedactionProject:
    """Detect and track, replacing earlier detected tracks (manual ones are kept)."""
    project = RedactionProject.objects.select_related("original").get(pk=project_id)
    store = get_store()
    try:
        with tempfile.TemporaryDirectory(prefix="overt-redact-") as tmp:
            source = source_path(store, project.original, Path(tmp))
            result = detect_video(
                source,
                detectors_for(project),
                stride=project.stride,
                every={PlateCascadeDetector.name: PLATE_EVERY},
                tracking=tracking.TrackingSettings(min_score=DEFAULT_THRESHOLD),
                progress=(lambda f: progress(f * 0.95, "detecting")) if progress else None,
            )
    except Exception as exc:
        RedactionProject.objects.filter(pk=project.pk).update(
            status=RedactionProject.Status.FAILED, last_error=str(exc)[:2000]
        )
        raise
    with transaction.atomic():
        project = RedactionProject.objects.select_for_update().get(pk=project.pk)
        project.tracks.exclude(label=Track.Label.MANUAL).delete()
        taken = set(project.tracks.values_list("number", flat=True))
        next_number = 1
        rows: list[tuple[Track, tracking.Track]] = []
        for engine_track in result.tracks:
            while next_number in taken:
                next_number += 1
            thumb = result.thumbnails.get(engine_track.id)
            rows.append(
                (
                    Track(
                        project=project,
                        number=next_number,
                        label=engine_track.label,
                        detector=engine_track.detector,
                        start_s=engine_track.start_t,
                        end_s=engine_track.end_t,
                        score=engine_track.score,
                        thumbnail=_jpeg(thumb) if thumb is not None else b"",
                    ),
                    engine_track,
                )
            )
            next_number += 1
        Track.objects.bulk_create([row for row, _ in rows])
        saved = {t.number: t for t in project.tracks.all()}
        boxes = [
            Box(
                track=saved[row.number],
                t=s.t,
                x1=s.box[0],
                y1=s.box[1],
                x2=s.box[2],
                y2=s.box[3],
                score=s.score,
            )
            for row, engine_track in rows
            for s in engine_track.samples
        ]
        Box.objects.bulk_create(boxes, batch_size=1000)
        project.frames = result.frames
        project.fps = result.fps
        project.duration_s = result.duration_s
        project.width, project.height = result.width, result.height
        project.rotation = result.rotation
        project.detectors = result.detectors
        project.status = RedactionProject.Status.REVIEW
        project.last_error = ""
        project.save()
        record(
            "redaction",
            Actor.system("redaction"),
            project_subject(project),
            details={
                "step": "detect",
                "tracks": len(rows),
                "boxes": len(boxes),
                "frames": result.frames,
                "sampled_frames": result.sampled,
                "stride": result.stride,
                "setting": get_settings().redaction_setting,
                "detectors": result.detectors,
            },
        )
    if progress is not None:
        progress(1.0, "detected")
    return project


def _jpeg(image: np.ndarray) -> bytes:  # numpy RGB -> JPEG bytes
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def source_path(store: EvidenceStore, original: Original, folder: Path) -> Path:
    return store.local_path(original.sha256) or store.copy_to(original.sha256, folder / "original")
