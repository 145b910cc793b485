"""Redact a file in one call, with no instance: the engine behind `overt redact`."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .audio_redaction import AudioRange
from .detection import DetectionResult
from .detectors import CenterFaceDetector, Detector, ManualSpan, PlateCascadeDetector
from .inputs import require_playable
from .leakcheck import LeakCheck
from .manifest import detections_document, track_summary, tracks_document, tracks_from_document
from .overlay import OverlayAware
from .render import DEFAULT_MARGIN, LeakPass, RenderResult, redact_video, render_video
from .settings import COVERAGE, RedactionSettings
from .tracking import Sample, Track, TrackingSettings, manual_track

# Coverage over speed (issue 15, measured in docs/benchmarks.md): the whole picture at
# up to 1280 px, plus one of four zoomed tiles per sampled frame for faces under ~40 px.
# The fast setting and every knob: overt.redaction.engine.settings.
DEFAULT_STRIDE = COVERAGE.stride
DEFAULT_DETECT_WIDTH = COVERAGE.detect_width
DEFAULT_TILES: tuple[int, int] | None = COVERAGE.engine_tiles()
DEFAULT_THRESHOLD = 0.2
# Weaker detections, down to this share of the threshold, count when the tracker
# confirms them (found twice within TrackingSettings.confirm_s): small, blurred and
# turned faces score low, a one-off flicker on a texture is not found twice.
CANDIDATE_FACTOR = 0.5
PLATE_EVERY = 2  # plates are sought on every other sampled frame


@dataclass(slots=True)
class Options:
    mode: str = "blur"
    margin: float = DEFAULT_MARGIN
    stride: int = DEFAULT_STRIDE
    detect_width: int = DEFAULT_DETECT_WIDTH
    threshold: float = DEFAULT_THRESHOLD
    tiles: tuple[int, int] | None = DEFAULT_TILES  # also look closely at one tile per sample
    leak_check: bool = False  # check the output for faces afterwards
    faces: bool = True
    plates: bool = False
    device: str = "auto"
    boxes: Sequence[ManualSpan] = ()
    audio_ranges: Sequence[AudioRange] = ()
    max_height: int | None = None
    preset: str = "veryfast"
    crf: int = 23
    threads: int = 0  # onnxruntime threads; 0: one per core
    leak_stride: int = 2
    setting: str = "coverage"  # the named setting these knobs started from
    tracking: TrackingSettings = field(default_factory=TrackingSettings)

    @classmethod
    def of(cls, name: str, knobs: RedactionSettings, **rest: Any) -> Options:
        """Options from a named setting's knobs (overt.redaction.engine.settings)."""
        return cls(
            setting=name,
            stride=knobs.stride,
            detect_width=knobs.detect_width,
            tiles=knobs.engine_tiles(),
            threads=knobs.threads,
            preset=knobs.preset,
            crf=knobs.crf,
            leak_stride=knobs.leak_stride,
            **rest,
        )

    def settings(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "mode": self.mode,
            "margin": self.margin,
            "stride": self.stride,
            "detect_width": self.detect_width,
            "threshold": self.threshold,
            "tiles": list(self.tiles) if self.tiles else None,
            "max_height": self.max_height,
            "preset": self.preset,
            "crf": self.crf,
        }


@dataclass(slots=True)
class Outcome:
    output: str
    detections_path: str
    detection: DetectionResult | None
    render: RenderResult
    tracks: list[Track]
    seconds: float
    provider: str | None
    leak_check: LeakCheck | None = None

    def to_json(self) -> dict[str, Any]:
        frames = self.render.frames
        return {
            "output": self.output,
            "detections": self.detections_path,
            "frames": frames,
            "video_fps": self.detection.fps if self.detection else None,
            "fps": round(frames / self.seconds, 2) if self.seconds > 0 else None,
            "seconds": round(self.seconds, 3),
            "detect_seconds": round(self.detection.seconds, 3) if self.detection else 0.0,
            "render_seconds": round(self.render.seconds, 3),
            "masked_frames": self.render.masked_frames,
            # Packets the decoder could not read (a corrupt tail): their frames are not
            # in the copy, which holds only what could be decoded and masked.
            "decode_errors": self.render.decode_errors,
            "width": self.render.width,
            "height": self.render.height,
            "rotation": self.render.rotation,
            "has_audio": self.render.has_audio,
            "audio_ranges": self.render.audio_ranges,
            "provider": self.provider,
            "tracks": [track_summary(t) for t in self.tracks],
            "leak_check": self.leak_check.summary() if self.leak_check else None,
            "leak_check_seconds": round(self.leak_check.seconds, 3) if self.leak_check else None,
        }


def build_detectors(options: Options) -> list[Detector]:
    detectors: list[Detector] = []
    if options.faces:
        detectors.append(
            CenterFaceDetector(
                max_width=options.detect_width,
                threshold=options.threshold * CANDIDATE_FACTOR,
                device=options.device,
                tiles=options.tiles,
                threads=options.threads or None,
            )
        )
    if options.plates:
        detectors.append(OverlayAware(PlateCascadeDetector()))
    return detectors


def detections_path_for(output: str | os.PathLike[str]) -> Path:
    out = Path(output)
    return out.with_name(out.stem + ".detections.json")


def redact_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    options: Options | None = None,
    *,
    detections_in: str | os.PathLike[str] | None = None,
    detections_out: str | os.PathLike[str] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Outcome:
    """Detect, track and render in one go. With `detections_in` (a detections file,
    perhaps edited), detection is skipped and those tracks are rendered."""
    options = options or Options()
    require_playable(src)
    started = time.perf_counter()
    # The leak check runs in the render's own pass, on the encoded copy (render.LeakPass).
    leak = (
        LeakPass(leak_detector_for(options), stride=options.leak_stride)
        if options.leak_check
        else None
    )
    detection: DetectionResult | None = None
    provider = None
    if detections_in is not None:
        with open(detections_in, encoding="utf-8") as fh:
            document = json.load(fh)
        tracks = tracks_from_document(document)
        render = render_video(
            src,
            dst,
            tracks,
            margin=options.margin,
            mode=options.mode,
            audio_ranges=options.audio_ranges,
            max_height=options.max_height,
            preset=options.preset,
            crf=options.crf,
            leak_check=leak,
            progress=(lambda f: progress("render", f)) if progress else None,
        )
    else:
        detectors = build_detectors(options)
        provider = next((d.provider for d in detectors if isinstance(d, CenterFaceDetector)), None)
        manual = [
            manual_track(
                1_000_000 + n, [Sample(span.start_s, span.box), Sample(span.end_s, span.box)]
            )
            for n, span in enumerate(options.boxes)
        ]
        detection, render = redact_video(
            src,
            dst,
            detectors,
            stride=options.stride,
            every={PlateCascadeDetector.name: PLATE_EVERY},
            tracking=dataclasses.replace(options.tracking, min_score=options.threshold),
            extra_tracks=manual,
            margin=options.margin,
            mode=options.mode,
            audio_ranges=options.audio_ranges,
            max_height=options.max_height,
            preset=options.preset,
            crf=options.crf,
            leak_check=leak,
            progress=(lambda f: progress("redact", f)) if progress else None,
        )
        tracks = list(detection.tracks)
        next_id = max((t.id for t in tracks), default=0) + 1
        for offset, track in enumerate(manual):
            track.id = next_id + offset
            tracks.append(track)
        document = detections_document(detection)
        document["tracks"] = [tracks_document(t) for t in tracks]
    seconds = time.perf_counter() - started
    leak_check = render.leak_check
    out_path = Path(detections_out) if detections_out else detections_path_for(dst)
    if detections_in is None or detections_out is not None:
        document["settings"] = options.settings()
        tmp = out_path.with_name(out_path.name + ".tmp")
        tmp.write_text(json.dumps(document, indent=1), encoding="utf-8")
        os.replace(tmp, out_path)
    else:
        out_path = Path(detections_in)
    return Outcome(
        output=os.fspath(dst),
        detections_path=os.fspath(out_path),
        detection=detection,
        render=render,
        tracks=tracks,
        seconds=seconds,
        provider=provider,
        leak_check=leak_check,
    )


def leak_detector_for(options: Options) -> Detector:
    from .leakcheck import leak_detector

    return leak_detector(options.device)
