"""Rendering a redaction project: the reviewed tracks and audio ranges burned into a new file,
signed (C2PA), stored and catalogued as a `redacted` Derivative in one transaction with its
custody entries; until that transaction commits nothing of it exists, so an interrupted
render leaves no derivative and can run again. The original is only ever read."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from overt.conf import get_settings
from overt.custody.services import Actor, record
from overt.evidence.models import Derivative
from overt.evidence.store import get_store
from overt.jobs.services import enqueue
from overt.media.catalogue import Provenance, Requester, catalogue_derivative

from .engine import tracking
from .engine.audio_redaction import AudioRange as EngineAudioRange
from .engine.c2pa_sign import ensure_certificate, sign_video
from .engine.manifest import (
    GENERATOR,
    build_manifest,
    c2pa_actions,
    generator_version,
    overt_version,
)
from .engine.render import LeakPass, render_video
from .engine.settings import named
from .leaks import store_findings
from .models import Box, RedactionProject, Render
from .services import Progress, RedactionProblem, project_subject, source_path, user_actor

C2PA_KEYS_DIR = "keys"


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
            user_actor(username),
            project_subject(locked, render=render.number),
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
    setting = get_settings().redaction_setting
    knobs = named(setting)
    settings = {
        **project.settings(),
        "setting": setting,
        "preset": knobs.preset,
        "crf": knobs.crf,
    }
    try:
        with tempfile.TemporaryDirectory(prefix="overt-redact-") as tmp:
            folder = Path(tmp)
            source = source_path(store, original, folder)
            plain = folder / "redacted.mp4"
            result = render_video(
                source,
                plain,
                keep,
                margin=project.margin,
                mode=project.mode,
                audio_ranges=ranges,
                max_height=project.max_height,
                preset=knobs.preset,
                crf=knobs.crf,
                # The leak check reads the copy as it will be released (the encoded
                # stream, decoded again as it is written; the signed file differs only
                # in its C2PA box), in the render's own pass, before signing, so its
                # result is signed too.
                leak_check=LeakPass(stride=knobs.leak_stride),
                progress=(lambda f: progress(f * 0.9, "rendering, leak check"))
                if progress
                else None,
            )
            leak_check = result.leak_check
            assert leak_check is not None  # asked for above
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
            manifest["decode_errors"] = result.decode_errors  # unreadable packets left out
            manifest["leak_check"] = leak_check.summary()
            for item in manifest["leak_check"]["findings"]:
                item["decision"] = "open"
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
            store_findings(locked, leak_check)
            RedactionProject.objects.filter(pk=project.pk).update(
                status=RedactionProject.Status.RENDERED, last_error=""
            )
            record(
                "redaction",
                user_actor(render.requested_by),
                project_subject(project, render=render.number, derivative=derivative.pk),
                details={
                    "step": "render",
                    "render": render.number,
                    "sha256": stored.sha256,
                    "tracks": [t["id"] for t in manifest["tracks"]],
                    "excluded_tracks": [t["id"] for t in manifest["excluded_tracks"]],
                    "audio_ranges": manifest["audio_ranges"],
                    "mode": project.mode,
                    "detectors": project.detectors,
                    "leak_findings": len(leak_check.findings),
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
