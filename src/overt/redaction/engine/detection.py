"""The detection pass: run the detectors on sampled frames and link what they find into
tracks, with a thumbnail of each track's best view; either a pass of its own
(`detect_video`) or beside the render as frames stream by (`Detecting`)."""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np

from overt.media.derivatives import Packets, display_size, start_seconds
from overt.media.probe import VideoInfo

from .box_sources import BoxSource
from .camera import CameraMotion
from .detectors import Box, Detector, Found, Picture
from .inputs import Progress, RedactionError, frame_time, require_playable
from .tracking import Linker, Timeline, Track, TrackingSettings, clip, grow_mask

THUMB_HEIGHT = 96


@dataclass(slots=True)
class DetectionResult:
    frames: int
    sampled: int
    stride: int
    duration_s: float
    fps: float | None
    width: int  # upright display size
    height: int
    rotation: int
    frame_times: list[float]
    tracks: list[Track]
    thumbnails: dict[int, np.ndarray] = field(default_factory=dict)
    detectors: dict[str, str] = field(default_factory=dict)  # name -> version
    seconds: float = 0.0
    decode_errors: int = 0


def detect_video(
    src: str | os.PathLike[str],
    detectors: Sequence[Detector],
    *,
    stride: int = 3,
    every: dict[str, int] | None = None,
    tracking: TrackingSettings | None = None,
    progress: Progress | None = None,
) -> DetectionResult:
    """Run `detectors` on every `stride`-th frame (detector d on every stride*every[d]-th)
    and link the results into tracks. Track ids are unique across detectors."""
    if stride < 1:
        raise ValueError("stride must be at least 1")
    every = every or {}
    info = require_playable(src)
    started = time.perf_counter()
    with av.open(os.fspath(src)) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        width, height = display_size(vin, info.rotation)
        t0 = start_seconds(vin, ain)
        duration = info.duration_s or 0.0
        linkers = {d.name: Linker(tracking) for d in detectors}
        best: dict[tuple[str, int], tuple[float, np.ndarray]] = {}
        frame_times: list[float] = []
        sampled = 0
        reported = -1.0
        packets = Packets(inp, [vin])
        for _packet, decoded in packets:
            for frame in decoded:
                index = len(frame_times)
                t = frame_time(frame, t0, frame_times)
                frame_times.append(t)
                if index % stride:
                    continue
                sampled += 1
                picture = Picture(
                    frame, width=width, height=height, rotation=info.rotation, index=index, time=t
                )
                for detector in detectors:
                    if (index // stride) % max(1, every.get(detector.name, 1)):
                        continue
                    found = detector.detect(picture)
                    ids = linkers[detector.name].push(t, found)
                    for track_key, item in zip(ids, found, strict=True):
                        key = (detector.name, track_key)
                        if key not in best or item.score > best[key][0]:
                            best[key] = (item.score, thumbnail(picture, item.box))
                if progress is not None and duration > 0:
                    done = min(1.0, t / duration)
                    if done - reported >= 0.01:
                        reported = done
                        progress(done)
    if not frame_times:
        raise RedactionError(f"{os.fspath(src)}: no video frame could be decoded")
    end_t = frame_times[-1]
    tracks: list[Track] = []
    thumbnails: dict[int, np.ndarray] = {}
    for detector in detectors:
        for track_key, track in linkers[detector.name].finish(
            detector=detector.name, first_id=len(tracks) + 1, end_t=end_t
        ):
            tracks.append(track)
            if (detector.name, track_key) in best:
                thumbnails[track.id] = best[(detector.name, track_key)][1]
    if progress is not None:
        progress(1.0)
    return DetectionResult(
        frames=len(frame_times),
        sampled=sampled,
        stride=stride,
        duration_s=end_t,
        fps=info.fps,
        width=width,
        height=height,
        rotation=info.rotation,
        frame_times=frame_times,
        tracks=tracks,
        thumbnails=thumbnails,
        detectors={d.name: d.version for d in detectors},
        seconds=time.perf_counter() - started,
        decode_errors=packets.errors,
    )


def thumbnail(picture: Picture, box: Box) -> np.ndarray:
    """A small upright crop around a box, for reviewers to recognise a track."""
    image = picture.largest_rgb()
    if image is None:
        scale = min(1.0, 640 / max(picture.width, picture.height))
        image = picture.rgb(
            max(1, round(picture.width * scale)), max(1, round(picture.height * scale))
        )
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    x1, x2 = max(0, math.floor((x1 - bw * 0.3) * w)), min(w, math.ceil((x2 + bw * 0.3) * w))
    y1, y2 = max(0, math.floor((y1 - bh * 0.3) * h)), min(h, math.ceil((y2 + bh * 0.3) * h))
    crop = image[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)]
    import cv2

    target_h = THUMB_HEIGHT
    target_w = max(1, round(crop.shape[1] * target_h / max(1, crop.shape[0])))
    return cv2.resize(crop, (min(target_w, 3 * target_h), target_h), interpolation=cv2.INTER_AREA)


class Detecting(BoxSource):
    """Detection in a worker thread while frames stream through the render.

    Sampled frames go to the detectors as they are decoded; a frame is released to the
    encoder once every detector's linker has seen enough later samples that the frame's
    boxes are final (see `Linker.ready`). At most two samples are in flight, so the
    queue of waiting frames stays short (about (max_missed + 2) x stride frames).
    """

    def __init__(
        self,
        detectors: Sequence[Detector],
        *,
        stride: int,
        every: dict[str, int],
        tracking: TrackingSettings | None,
        margin: float,
        width: int,
        height: int,
        rotation: int,
        extra: Timeline,
    ) -> None:
        self.detectors = list(detectors)
        self.stride = stride
        self.every = every
        self.margin = margin
        self.width, self.height, self.rotation = width, height, rotation
        self.extra = extra
        self.linkers = {d.name: Linker(tracking) for d in self.detectors}
        self.best: dict[tuple[str, int], tuple[float, np.ndarray]] = {}
        self.frame_times = []
        self.sampled = 0
        self.ended = False
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="overt-detect")
        self.inflight: deque[tuple[float, Picture, Future[Any]]] = deque()

    def offer(self, index: int, t: float, frame: av.VideoFrame) -> None:
        if index % self.stride:
            return
        self.sampled += 1
        step = index // self.stride
        chosen = [d for d in self.detectors if step % max(1, self.every.get(d.name, 1)) == 0]
        picture = Picture(
            frame, width=self.width, height=self.height, rotation=self.rotation, index=index, time=t
        )
        future = self.pool.submit(run_detectors, chosen, picture)
        self.inflight.append((t, picture, future))
        while len(self.inflight) > 2:
            self._consume()

    def _consume(self) -> None:
        t, picture, future = self.inflight.popleft()
        for detector, found in future.result():
            keys = self.linkers[detector.name].push(t, found)
            for key, item in zip(keys, found, strict=True):
                best = (detector.name, key)
                if best not in self.best or item.score > self.best[best][0]:
                    self.best[best] = (item.score, thumbnail(picture, item.box))

    def ready(self, t: float) -> bool:
        while self.inflight and self.inflight[0][2].done():
            self._consume()
        if self.ended:
            return True
        if all(linker.ready(t) for linker in self.linkers.values()):
            return True
        while self.inflight and len(self.inflight) > 1:
            self._consume()
            if all(linker.ready(t) for linker in self.linkers.values()):
                return True
        return False

    def finish(self) -> None:
        while self.inflight:
            self._consume()
        self.ended = True

    def attach(self, camera: CameraMotion) -> None:
        self.camera = camera
        self.extra.camera = camera

    def boxes(self, t: float) -> list[tuple[Box, str]]:
        out = list(self.extra.at(t))
        for linker in self.linkers.values():
            for box, label in linker.boxes_at(t, self.camera):
                clipped = clip(grow_mask(box, self.margin, label))
                if clipped is not None:
                    out.append((clipped, label))
        return out

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def result(self, info: VideoInfo, seconds: float) -> DetectionResult:
        end_t = self.frame_times[-1] if self.frame_times else 0.0
        tracks: list[Track] = []
        thumbnails: dict[int, np.ndarray] = {}
        for detector in self.detectors:
            for key, track in self.linkers[detector.name].finish(
                detector=detector.name, first_id=len(tracks) + 1, end_t=end_t
            ):
                tracks.append(track)
                if (detector.name, key) in self.best:
                    thumbnails[track.id] = self.best[(detector.name, key)][1]
        return DetectionResult(
            frames=len(self.frame_times),
            sampled=self.sampled,
            stride=self.stride,
            duration_s=end_t,
            fps=info.fps,
            width=self.width,
            height=self.height,
            rotation=self.rotation,
            frame_times=self.frame_times,
            tracks=tracks,
            thumbnails=thumbnails,
            detectors={d.name: d.version for d in self.detectors},
            seconds=seconds,
        )


def run_detectors(
    detectors: Sequence[Detector], picture: Picture
) -> list[tuple[Detector, list[Found]]]:
    return [(detector, detector.detect(picture)) for detector in detectors]
