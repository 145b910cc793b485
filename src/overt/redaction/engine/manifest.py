"""What a redacted copy says about itself, and the detections file.

The *manifest* travels with every redacted derivative (in its provenance facts and,
signed, in its C2PA credentials): the source's hash, who redacted, with which detector
versions and settings, which tracks were masked over which spans, which were left out
and which audio ranges were silenced. It lists spans, not every box; the *detections
file* has every sampled box and is what `overt redact --json` points to.
"""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import av

from .audio_redaction import AudioRange
from .detection import DetectionResult
from .render import RenderResult
from .tracking import Sample, Track

MANIFEST_VERSION = 1
DETECTIONS_VERSION = 1
GENERATOR = "overt.redaction"
# Bump when masking or encoding choices change; library versions make the rest exact.
RECIPE = "2"  # 2: tracks lead 0.6 s, weak detections confirmed, boxes follow camera jolts


def generator_version() -> str:
    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "absent"

    return ";".join(
        [
            f"recipe={RECIPE}",
            f"overt={version('overt')}",
            f"pyav={av.__version__}",
            f"ffmpeg={av.ffmpeg_version_info}",
            f"onnxruntime={version('onnxruntime')}",
            f"opencv={version('opencv-python')}",
        ]
    )


def overt_version() -> str:
    try:
        return importlib.metadata.version("overt")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def _r(value: float) -> float:
    return round(float(value), 4)


def track_summary(track: Track, *, included: bool = True) -> dict[str, Any]:
    return {
        "id": track.id,
        "label": track.label,
        "detector": track.detector,
        "included": included,
        "start_s": _r(track.start_t),
        "end_s": _r(track.end_t),
        "samples": len(track.samples),
        "keyframes": sum(1 for s in track.samples if s.manual),
        "score": _r(track.score),
    }


def build_manifest(
    *,
    source_sha256: str,
    source_name: str,
    render: RenderResult,
    tracks: Sequence[Track],
    excluded: Sequence[Track] = (),
    audio_ranges: Sequence[AudioRange] = (),
    detectors: dict[str, str],
    settings: dict[str, Any],
    redacted_by: str | None,
    project: int | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "version": MANIFEST_VERSION,
        "generator": GENERATOR,
        "generator_version": generator_version(),
        "created_at": (created_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "redacted_by": redacted_by,
        "project": project,
        "source": {"sha256": source_sha256, "name": source_name},
        "output": {
            "width": render.width,
            "height": render.height,
            "rotation": render.rotation,
            "frames": render.frames,
            "duration_s": _r(render.duration_s),
            "has_audio": render.has_audio,
            "masked_frames": render.masked_frames,
            "boxes": render.boxes,
        },
        "settings": settings,
        "detectors": dict(sorted(detectors.items())),
        "tracks": [track_summary(t) for t in tracks],
        "excluded_tracks": [track_summary(t, included=False) for t in excluded],
        "audio_ranges": [
            {"start_s": _r(r.start_s), "end_s": _r(r.end_s), "mode": r.mode} for r in audio_ranges
        ],
        "host": {"machine": platform.machine(), "python": platform.python_version()},
    }


def c2pa_actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The C2PA actions that describe a manifest's redactions, one per masked track
    and one per audio range, each with what was hidden and when."""
    actions: list[dict[str, Any]] = []
    mode = manifest["settings"].get("mode", "blur")
    for track in manifest["tracks"]:
        actions.append(
            {
                "action": "c2pa.edited",
                "description": (
                    f"{mode} over {track['label']} track {track['id']} "
                    f"from {track['start_s']:.2f} s to {track['end_s']:.2f} s"
                ),
                "parameters": {
                    "overt:kind": "video-redaction",
                    "overt:track": track["id"],
                    "overt:label": track["label"],
                    "overt:start_s": track["start_s"],
                    "overt:end_s": track["end_s"],
                },
            }
        )
    for item in manifest["audio_ranges"]:
        actions.append(
            {
                "action": "c2pa.edited",
                "description": (
                    f"audio {'muted' if item['mode'] == 'mute' else 'bleeped'} "
                    f"from {item['start_s']:.2f} s to {item['end_s']:.2f} s"
                ),
                "parameters": {
                    "overt:kind": "audio-redaction",
                    "overt:mode": item["mode"],
                    "overt:start_s": item["start_s"],
                    "overt:end_s": item["end_s"],
                },
            }
        )
    if manifest["output"]["height"] and manifest.get("settings", {}).get("scaled"):
        actions.append({"action": "c2pa.resized", "description": "scaled down for release"})
    return actions


# --- detections file ------------------------------------------------------------------


def detections_document(
    result: DetectionResult, *, source_sha256: str | None = None
) -> dict[str, Any]:
    return {
        "version": DETECTIONS_VERSION,
        "generator": GENERATOR,
        "generator_version": generator_version(),
        "source_sha256": source_sha256,
        "frames": result.frames,
        "sampled_frames": result.sampled,
        "stride": result.stride,
        "fps": result.fps,
        "duration_s": _r(result.duration_s),
        "width": result.width,
        "height": result.height,
        "rotation": result.rotation,
        "detectors": result.detectors,
        "tracks": [tracks_document(t) for t in result.tracks],
    }


def tracks_document(track: Track) -> dict[str, Any]:
    return {
        **track_summary(track),
        "boxes": [
            {
                "t": _r(s.t),
                "box": [_r(v) for v in s.box],
                "score": _r(s.score),
                **({"manual": True} if s.manual else {}),
            }
            for s in track.samples
        ],
    }


def tracks_from_document(document: dict[str, Any]) -> list[Track]:
    """Tracks back from a detections file (e.g. one edited by hand), included ones only."""
    if document.get("version") != DETECTIONS_VERSION:
        raise ValueError(f"unsupported detections file version {document.get('version')!r}")
    tracks = []
    for item in document["tracks"]:
        if not item.get("included", True):
            continue
        samples = [
            Sample(
                float(b["t"]),
                # [x1, y1, x2, y2] in every manifest overt writes; a tuple of any length is
                # what `tuple()` is typed to give.
                tuple(float(v) for v in b["box"]),  # type: ignore[arg-type]
                float(b.get("score", 1.0)),
                bool(b.get("manual", False)),
            )
            for b in item["boxes"]
        ]
        tracks.append(
            Track(
                int(item["id"]),
                item["label"],
                item["detector"],
                samples,
                float(item["start_s"]),
                float(item["end_s"]),
            )
        )
    return tracks


def included(
    tracks: Iterable[Track], excluded_ids: Iterable[int]
) -> tuple[list[Track], list[Track]]:
    skip = set(excluded_ids)
    keep = [t for t in tracks if t.id not in skip]
    drop = [t for t in tracks if t.id in skip]
    return keep, drop
