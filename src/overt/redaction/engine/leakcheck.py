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
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import av
import numpy as np

from overt.media.derivatives import Packets, display_size, start_seconds

from .detection import thumbnail
from .detectors import Box, CenterFaceDetector, Detector, Found, Picture
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


class LeakWatch:
    """The leak check fed one frame at a time, in time order: `check_copy` feeds it a
    file's frames; a render feeds it the copy's own frames as they leave the encoder
    (decoded from the encoded stream, so it sees the released pixels), with detection
    in a worker thread beside the encoder. `result()` gives what `check_copy` gives."""

    def __init__(
        self,
        detector: Detector | None = None,
        *,
        width: int,
        height: int,
        rotation: int = 0,
        stride: int = LEAK_STRIDE,
        background: bool = False,
    ) -> None:
        if stride < 1:
            raise ValueError("stride must be at least 1")
        self.detector = detector or leak_detector()
        self.width, self.height, self.rotation = width, height, rotation
        self.stride = stride
        self.linker = Linker(_FINDING_TRACKING)
        self.best: dict[int, tuple[float, Box, np.ndarray]] = {}
        self.counts: dict[int, int] = {}
        self.times: list[float] = []
        self.checked = 0
        self.started = time.perf_counter()
        self.pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="overt-leak")
            if background
            else None
        )
        self.inflight: deque[tuple[float, Picture, Future[list[Found]]]] = deque()

    def offer(self, frame: av.VideoFrame | np.ndarray, t: float) -> None:
        index = len(self.times)
        self.times.append(t)
        if index % self.stride:
            return
        self.checked += 1
        picture = Picture(
            frame,
            width=self.width,
            height=self.height,
            rotation=self.rotation,
            index=index,
            time=t,
        )
        if self.pool is None:
            self._take(t, picture, self.detector.detect(picture))
            return
        self.inflight.append((t, picture, self.pool.submit(self.detector.detect, picture)))
        while len(self.inflight) > 2 or (self.inflight and self.inflight[0][2].done()):
            t0, done, future = self.inflight.popleft()
            self._take(t0, done, future.result())

    def _take(self, t: float, picture: Picture, found: list[Found]) -> None:
        for key, item in zip(self.linker.push(t, found), found, strict=True):
            self.counts[key] = self.counts.get(key, 0) + 1
            if key not in self.best or item.score > self.best[key][0]:
                self.best[key] = (item.score, item.box, thumbnail(picture, item.box))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def result(self) -> LeakCheck:
        while self.inflight:
            t, picture, future = self.inflight.popleft()
            self._take(t, picture, future.result())
        self.close()
        findings = []
        end_t = self.times[-1] if self.times else 0.0
        for key, track in self.linker.finish(detector=self.detector.name, end_t=end_t):
            score, box, thumb = self.best[key]
            findings.append(
                Finding(track.id, track.start_t, track.end_t, box, score, self.counts[key], thumb)
            )
        return LeakCheck(
            detector=self.detector.version,
            frames=len(self.times),
            checked=self.checked,
            stride=self.stride,
            seconds=time.perf_counter() - self.started,
            findings=findings,
        )


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
    duration = info.duration_s or 0.0
    with av.open(os.fspath(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        audio = container.streams.audio[0] if container.streams.audio else None
        width, height = display_size(stream, info.rotation)
        t0 = start_seconds(stream, audio)
        watch = LeakWatch(
            detector, width=width, height=height, rotation=info.rotation, stride=stride
        )
        for _packet, decoded in Packets(container, [stream]):
            for frame in decoded:
                t = frame_time(frame, t0, watch.times)
                watch.offer(frame, t)
                if progress is not None and duration > 0:
                    progress(min(1.0, t / duration))
    return watch.result()
