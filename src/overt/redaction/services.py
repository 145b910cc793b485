"""Redaction projects: create, detect, review, render. Every step is in the custody log.

The original is only ever read (from the store, or a scratch copy of a remote object).
A render writes a new file, signs it, stores it and catalogues it as a `redacted`
Derivative in one transaction with its custody entries; until that transaction commits
nothing of it exists, so an interrupted render leaves no derivative and can run again.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from overt.conf import get_settings
from overt.custody.services import Actor, Subject, record
from overt.errors import Invalid
from overt.evidence.models import Derivative, Original
from overt.evidence.store import EvidenceStore, get_store
from overt.jobs.models import Job
from overt.jobs.services import enqueue
from overt.media.catalogue import Provenance, Requester, catalogue_derivative

from .engine import tracking
from .engine.adhoc import DEFAULT_DETECT_WIDTH, DEFAULT_THRESHOLD, PLATE_EVERY
from .engine.c2pa_sign import ensure_certificate, sign_video
from .engine.detectors import CenterFaceDetector, Detector, PlateCascadeDetector
from .engine.manifest import (
    GENERATOR,
    build_manifest,
    c2pa_actions,
    generator_version,
    overt_version,
)
from .engine.render import AudioRange as EngineAudioRange
from .engine.render import detect_video, render_video
from .models import AudioRange, Box, RedactionProject, Render, Track

Progress = Callable[[float, str], None]
MANUAL_TRACK_SECONDS = 2.0  # a new manual box lasts this long until keyframes move it
C2PA_KEYS_DIR = "keys"


class RedactionProblem(Invalid):
    """A request that cannot be honoured (bad box, wrong state); the message says why."""


def _user(username: str) -> Actor:
    return Actor("user", username or "unknown")


def _subject(project: RedactionProject, **ids: int | str) -> Subject:
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
    plates: bool = True,
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
            _user(username),
            _subject(project),
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
    detectors: list[Detector] = []
    if project.faces:
        detectors.append(
            CenterFaceDetector(max_width=DEFAULT_DETECT_WIDTH, threshold=DEFAULT_THRESHOLD)
        )
    if project.plates:
        detectors.append(PlateCascadeDetector())
    return detectors


def run_detection(project_id: int, progress: Progress | None = None) -> RedactionProject:
    """Detect and track, replacing earlier detected tracks (manual ones are kept)."""
    project = RedactionProject.objects.select_related("original").get(pk=project_id)
    store = get_store()
    try:
        with tempfile.TemporaryDirectory(prefix="overt-redact-") as tmp:
            source = _source(store, project.original, Path(tmp))
            result = detect_video(
                source,
                detectors_for(project),
                stride=project.stride,
                every={PlateCascadeDetector.name: PLATE_EVERY},
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
            _subject(project),
            details={
                "step": "detect",
                "tracks": len(rows),
                "boxes": len(boxes),
                "frames": result.frames,
                "sampled_frames": result.sampled,
                "stride": result.stride,
                "detectors": result.detectors,
            },
        )
    if progress is not None:
        progress(1.0, "detected")
    return project


def _jpeg(image) -> bytes:  # numpy RGB -> JPEG bytes
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _source(store: EvidenceStore, original: Original, folder: Path) -> Path:
    return store.local_path(original.sha256) or store.copy_to(original.sha256, folder / "original")


# --- review -------------------------------------------------------------------------


def _check_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, y1 = max(0.0, x1), max(0.0, y1)
    x2, y2 = min(1.0, x2), min(1.0, y2)
    if not (x2 - x1 > 0.001 and y2 - y1 > 0.001):
        raise RedactionProblem("a box needs a width and a height inside the picture")
    return (x1, y1, x2, y2)


def _check_time(project: RedactionProject, t: float) -> float:
    t = float(t)
    if t < 0 or (project.duration_s is not None and t > project.duration_s + 0.5):
        raise RedactionProblem(f"{t:.2f} s is outside the recording")
    return t


def set_included(track: Track, included: bool, username: str) -> Track:
    with transaction.atomic():
        Track.objects.filter(pk=track.pk).update(
            included=included, decided_by=username, decided_at=timezone.now()
        )
        track.refresh_from_db()
        record(
            "redaction",
            _user(username),
            _subject(track.project, track=track.number),
            details={
                "step": "track-include" if included else "track-exclude",
                "track": track.number,
                "label": track.label,
            },
        )
    return track


def set_keyframe(
    track: Track, t: float, box: tuple[float, float, float, float], username: str
) -> Box:
    """Put (or move) a reviewer's box on `track` at time t; the track grows to cover t."""
    project = track.project
    t = _check_time(project, t)
    corners = _check_box(box)
    with transaction.atomic():
        track.boxes.filter(t__gt=t - 1e-4, t__lt=t + 1e-4).delete()
        keyframe = Box.objects.create(
            track=track,
            t=t,
            x1=corners[0],
            y1=corners[1],
            x2=corners[2],
            y2=corners[3],
            score=1.0,
            manual=True,
        )
        Track.objects.filter(pk=track.pk).update(
            start_s=min(track.start_s, t),
            end_s=max(track.end_s, t),
            decided_by=username,
            decided_at=timezone.now(),
        )
        record(
            "redaction",
            _user(username),
            _subject(project, track=track.number),
            details={
                "step": "keyframe",
                "track": track.number,
                "t": round(t, 4),
                "box": [round(v, 4) for v in corners],
            },
        )
    track.refresh_from_db()
    return keyframe


def delete_keyframe(keyframe: Box, username: str) -> None:
    if not keyframe.manual:
        raise RedactionProblem(
            "only a reviewer's keyframe can be removed; leave the track out instead"
        )
    track = keyframe.track
    with transaction.atomic():
        t = keyframe.t
        keyframe.delete()
        remaining = list(track.boxes.order_by("t").values_list("t", flat=True))
        if remaining and track.label == Track.Label.MANUAL:
            Track.objects.filter(pk=track.pk).update(start_s=remaining[0], end_s=remaining[-1])
        elif not remaining:
            track.delete()
        record(
            "redaction",
            _user(username),
            _subject(track.project, track=track.number),
            details={"step": "keyframe-remove", "track": track.number, "t": round(t, 4)},
        )


def add_manual_track(
    project: RedactionProject,
    t: float,
    box: tuple[float, float, float, float],
    username: str,
    *,
    seconds: float = MANUAL_TRACK_SECONDS,
) -> Track:
    """A reviewer's own box from t for `seconds` (two keyframes, both movable)."""
    t = _check_time(project, t)
    corners = _check_box(box)
    end = t + seconds
    if project.duration_s is not None:
        end = min(end, project.duration_s)
    end = max(end, t)
    with transaction.atomic():
        locked = RedactionProject.objects.select_for_update().get(pk=project.pk)
        number = (
            locked.tracks.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        track = Track.objects.create(
            project=locked,
            number=number,
            label=Track.Label.MANUAL,
            detector="manual",
            start_s=t,
            end_s=end,
            score=1.0,
            decided_by=username,
            decided_at=timezone.now(),
        )
        for when in sorted({t, end}):
            Box.objects.create(
                track=track,
                t=when,
                x1=corners[0],
                y1=corners[1],
                x2=corners[2],
                y2=corners[3],
                manual=True,
            )
        record(
            "redaction",
            _user(username),
            _subject(locked, track=number),
            details={
                "step": "track-add",
                "track": number,
                "start_s": round(t, 4),
                "end_s": round(end, 4),
                "box": [round(v, 4) for v in corners],
            },
        )
    return track


def add_audio_range(
    project: RedactionProject,
    start_s: float,
    end_s: float,
    mode: str,
    username: str,
    note: str = "",
) -> AudioRange:
    start_s, end_s = float(start_s), float(end_s)
    if not 0 <= start_s < end_s:
        raise RedactionProblem("an audio range must start at or after 0 and end after it starts")
    if mode not in AudioRange.Mode.values:
        raise RedactionProblem(f"audio mode must be one of {', '.join(AudioRange.Mode.values)}")
    with transaction.atomic():
        item = AudioRange.objects.create(
            project=project, start_s=start_s, end_s=end_s, mode=mode, note=note, created_by=username
        )
        record(
            "redaction",
            _user(username),
            _subject(project),
            details={
                "step": "audio-range-add",
                "start_s": round(start_s, 4),
                "end_s": round(end_s, 4),
                "mode": mode,
            },
        )
    return item


def remove_audio_range(item: AudioRange, username: str) -> None:
    with transaction.atomic():
        project = item.project
        details = {
            "step": "audio-range-remove",
            "start_s": round(item.start_s, 4),
            "end_s": round(item.end_s, 4),
            "mode": item.mode,
        }
        item.delete()
        record("redaction", _user(username), _subject(project), details=details)


# --- render -------------------------------------------------------------------------


def engine_tracks(project: RedactionProject) -> tuple[list[tracking.Track], list[tracking.Track]]:
    """(included, excluded) tracks as the engine sees them, keyframes included."""
    boxes: dict[int, list[tracking.Sample]] = {}
    for b in Box.objects.filter(track__project=project).order_by("track_id", "t"):
        boxes.setdefault(b.track_id, []).append(
            tracking.Sample(b.t, (b.x1, b.y1, b.x2, b.y2), b.score, b.manual)
        )
    keep: list[tracking.Track] = []
    drop: list[tracking.Track] = []
    for track in project.tracks.all():
        samples = boxes.get(track.pk, [])
        if not samples:
            continue
        engine = tracking.Track(
            track.number, track.label, track.detector, samples, track.start_s, track.end_s
        )
        (keep if track.included else drop).append(engine)
    return keep, drop


def request_render(project: RedactionProject, username: str) -> Render:
    if project.status == RedactionProject.Status.DETECTING:
        raise RedactionProblem("detection is still running; render once it has finished")
    with transaction.atomic():
        locked = RedactionProject.objects.select_for_update().get(pk=project.pk)
        locked.render_runs += 1
        locked.status = RedactionProject.Status.RENDERING
        locked.save(update_fields=["render_runs", "status", "updated_at"])
        render = Render.objects.create(
            project=locked, number=locked.render_runs, requested_by=username
        )
        record(
            "redaction",
            _user(username),
            _subject(locked, render=render.number),
            details={"step": "render-request", "render": render.number},
        )
        enqueue(
            "redaction.render",
            f"redaction:{locked.pk}:render:{render.number}",
            {"render": render.pk},
        )
    return render


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    render: Render
    derivative: Derivative


def run_render(render_id: int, progress: Progress | None = None) -> RenderOutcome:
    """Render, sign, store and catalogue. Idempotent; all-or-nothing."""
    render = Render.objects.select_related("project__original", "derivative").get(pk=render_id)
    if render.derivative is not None:
        return RenderOutcome(render, render.derivative)
    project = render.project
    original = project.original
    keep, drop = engine_tracks(project)
    ranges = [EngineAudioRange(r.start_s, r.end_s, r.mode) for r in project.audio_ranges.all()]
    store = get_store()
    settings = {
        **project.settings(),
        "preset": "veryfast",
        "crf": 23,
    }
    try:
        with tempfile.TemporaryDirectory(prefix="overt-redact-") as tmp:
            folder = Path(tmp)
            source = _source(store, original, folder)
            plain = folder / "redacted.mp4"
            result = render_video(
                source,
                plain,
                keep,
                margin=project.margin,
                mode=project.mode,
                audio_ranges=ranges,
                max_height=project.max_height,
                progress=(lambda f: progress(f * 0.9, "rendering")) if progress else None,
            )
            settings["scaled"] = bool(
                project.max_height and project.height and project.height > project.max_height
            )
            manifest = build_manifest(
                source_sha256=original.sha256,
                source_name=original.filename,
                render=result,
                tracks=keep,
                excluded=drop,
                audio_ranges=ranges,
                detectors=project.detectors,
                settings=settings,
                redacted_by=render.requested_by,
                project=project.pk,
            )
            manifest["render"] = render.number
            signed = folder / "signed.mp4"
            credentials = ensure_certificate(get_settings().home_dir / C2PA_KEYS_DIR)
            sign_video(
                plain,
                signed,
                credentials,
                title=f"{Path(original.filename).stem}-redacted.mp4",
                original_sha256=original.sha256,
                original_title=original.filename,
                actions=c2pa_actions(manifest),
                assertion=manifest,
                generator_version=overt_version(),
            )
            if progress is not None:
                progress(0.95, "storing")
            stored = store.put_file(signed)
    except Exception as exc:
        RedactionProject.objects.filter(pk=project.pk).update(
            status=RedactionProject.Status.FAILED, last_error=str(exc)[:2000]
        )
        raise
    with transaction.atomic():
        locked = Render.objects.select_for_update().get(pk=render.pk)
        if locked.derivative_id is not None:  # a concurrent attempt won
            return RenderOutcome(locked, Derivative.objects.get(pk=locked.derivative_id))

        def record_render(derivative: Derivative) -> None:
            # The render's own entry comes before the derivative's, and names it.
            locked.derivative = derivative
            locked.finished_at = timezone.now()
            locked.save(update_fields=["derivative", "finished_at"])
            RedactionProject.objects.filter(pk=project.pk).update(
                status=RedactionProject.Status.RENDERED, last_error=""
            )
            record(
                "redaction",
                _user(render.requested_by),
                _subject(project, render=render.number, derivative=derivative.pk),
                details={
                    "step": "render",
                    "render": render.number,
                    "sha256": stored.sha256,
                    "tracks": [t["id"] for t in manifest["tracks"]],
                    "excluded_tracks": [t["id"] for t in manifest["excluded_tracks"]],
                    "audio_ranges": manifest["audio_ranges"],
                    "mode": project.mode,
                    "detectors": project.detectors,
                },
            )

        derivative = catalogue_derivative(
            original,
            Derivative.Kind.REDACTED,
            stored,
            content_type="video/mp4",
            provenance=Provenance(GENERATOR, generator_version()),
            facts=manifest,
            requester=Requester(
                Actor.system("redaction"),
                {
                    "original": project.original_id,
                    "redaction_project": project.pk,
                    "render": render.number,
                },
            ),
            before_entry=record_render,
        )
    if progress is not None:
        progress(1.0, "rendered")
    return RenderOutcome(locked, derivative)
