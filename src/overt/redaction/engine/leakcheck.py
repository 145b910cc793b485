"""The leak check: a second pass over a rendered copy, looking for faces that survived.

After a render, the strongest face detector overt has (CenterFace at the copy's full
resolution, with a lower threshold than detection) runs over the *output* on every
`stride`-th frame. Anything it finds is a **finding**: detections linked through time
(the same tracker as detection), with when, where, the best score and a thumbnail of
the output frame. A copy with findings nobody has looked at must not leave overt: a
reviewer marks each one "not a face" (a masked blob, a poster) or fixes it with a box
and renders again (see overt.redaction.leaks).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import av
import numpy as np

from overt.media.derivatives import Packets, display_size, start_seconds

from .detection import thumbnail
from .detectors import Box, CenterFaceDetector, Detector, Picture
from .inputs import frame_time, require_playable
from .tracking import Linker, TrackingSettings

LEAK_THRESHOLD = 0.35  # CenterFace score a face needs to be a finding
LEAK_STRIDE = 2  # every other frame; 1 checks every frame (slower)
# Findings link like detections, but a finding is only what was seen: no coasting, no
# lead before the first or trail after the last frame it was found on.
_FINDING_TRACKING = TrackingSettings(coast_s=0.0, edge_lead_s=0.0, extend=False)


@dataclass(slots=True)
class Finding:
    number: int
    start_s: float
    end_s: float
    box: Box  # the best-scoring box, normalised upright
    score: float
    frames: int  # checked frames it was found on
    thumbnail: np.ndarray | None = None


@dataclass(slots=True)
class LeakCheck:
    detector: str  # exact version
    frames: int
    checked: int
    stride: int
    seconds: float
    findings: list[Finding] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """What a manifest records of the check (without thumbnails)."""
        return {
            "detector": self.detector,
            "frames": self.frames,
            "checked_frames": self.checked,
            "stride": self.stride,
            "findings": [
                {
                    "number": f.number,
                    "start_s": round(f.start_s, 3),
                    "end_s": round(f.end_s, 3),
                    "box": [round(v, 4) for v in f.box],
                    "score": round(f.score, 3),
                    "frames": f.frames,
                }
                for f in self.findings
            ],
        }


def leak_detector(device: str = "auto") -> CenterFaceDetector:
    """CenterFace at full resolution (up to 4K on the longer side), low threshold."""
    return CenterFaceDetector(max_width=3840, threshold=LEAK_THRESHOLD, device=device)


def check_copy(
    path: str | os.PathLike[str],
    detector: Detector | None = None,
    *,
    stride: int = LEAK_STRIDE,
    progress: Callable[[float], None] | None = None,
) -> LeakCheck:
    """Look for faces in a rendered copy. Raises RedactionError if it cannot be read."""
    if stride < 1:
        raise ValueError("stride must be at least 1")
    info = require_playable(path)
    detector = detector or leak_detector()
    started = time.perf_counter()
    linker = Linker(_FINDING_TRACKING)
    best: dict[int, tuple[float, Box, np.ndarray]] = {}
    counts: dict[int, int] = {}
    times: list[float] = []
    checked = 0
    duration = info.duration_s or 0.0
    with av.open(os.fspath(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        audio = container.streams.audio[0] if container.streams.audio else None
        width, height = display_size(stream, info.rotation)
        t0 = start_seconds(stream, audio)
        for _packet, decoded in Packets(container, [stream]):
            for frame in decoded:
                index = len(times)
                t = frame_time(frame, t0, times)
                times.append(t)
                if index % stride:
                    continue
                checked += 1
                picture = Picture(
                    frame, width=width, height=height, rotation=info.rotation, index=index, time=t
                )
                found = detector.detect(picture)
                for key, item in zip(linker.push(t, found), found, strict=True):
                    counts[key] = counts.get(key, 0) + 1
                    if key not in best or item.score > best[key][0]:
                        best[key] = (item.score, item.box, thumbnail(picture, item.box))
                if progress is not None and duration > 0:
                    progress(min(1.0, t / duration))
    findings = []
    for key, track in linker.finish(detector=detector.name, end_t=times[-1] if times else 0.0):
        score, box, thumb = best[key]
        findings.append(
            Finding(track.id, track.start_t, track.end_t, box, score, counts[key], thumb)
        )
    return LeakCheck(
        detector=detector.version,
        frames=len(times),
        checked=checked,
        stride=stride,
        seconds=time.perf_counter() - started,
        findings=findings,
    )
