"""Detection pass and render pass over a video file.

Longer than 400 lines because it is one pipeline (decode, detect, mask, encode, leak
check in the same pass), whose stages share the frame clock and must be read together.

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
import os
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import av

from overt.media.derivatives import Packets, display_size, start_seconds
from overt.media.probe import VideoInfo

from .audio_redaction import AudioRange, redacted_audio
from .box_sources import BoxSource, Planned
from .camera import CameraMotion
from .detection import Detecting, DetectionResult
from .detectors import Detector, Picture
from .inputs import Progress, RedactionError, frame_time, require_playable
from .leakcheck import LeakCheck, LeakWatch
from .masking import Masker
from .output import add_video, output_size, to_output
from .tracking import Timeline, Track, TrackingSettings

MODES = ("blur", "pixelate", "solid")
DEFAULT_MARGIN = 0.3  # each side, as a fraction of the box: deface's 1.3 mask scale


@dataclass(frozen=True, slots=True)
class LeakPass:
    """Leak-check the copy in the render's own pass (see `render_video`)."""

    detector: Detector | None = None  # None: leakcheck.leak_detector()
    stride: int = 2


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
    leak_check: LeakCheck | None = None  # when the render ran the leak check in its pass


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
    leak_check: LeakPass | None = None,
    progress: Progress | None = None,
) -> RenderResult:
    """Write `src` with `tracks` masked to `dst` (MP4, H.264 + AAC). Atomic: on any
    error (or an exception from `progress`) no file is left at `dst`.

    With `leak_check`, the copy is leak-checked in the same pass: the encoder's output
    is decoded again as it is written (the released pixels, not the frames before
    encoding) and the leak detector runs on it in a worker thread beside the encoder;
    the result is `RenderResult.leak_check`, as `check_copy` on the file would give."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    info = require_playable(src)
    source = Planned(Timeline(tracks, margin))
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
        leak_check=leak_check,
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
    leak_check: LeakPass | None = None,
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
    source = Detecting(
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
            leak_check=leak_check,
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
    source: BoxSource,
    **options: object,
) -> RenderResult:
    dst = os.fspath(dst)
    folder = os.path.dirname(os.path.abspath(dst))
    fd, partial = tempfile.mkstemp(prefix=f".{os.path.basename(dst)}.", suffix=".part", dir=folder)
    os.close(fd)
    try:
        # The caller's render options, passed through: _render's keywords name and type them.
        counts, check = _render(os.fspath(src), partial, info, source, **options)  # type: ignore[arg-type]
        result = RenderResult(**dataclasses.asdict(counts), leak_check=check)
        os.replace(partial, dst)
    except BaseException:
        with _suppress():
            os.unlink(partial)
        raise
    return dataclasses.replace(result, path=dst)


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


def _render(
    src: str,
    dst: str,
    info: VideoInfo,
    source: BoxSource,
    *,
    mode: str,
    audio_ranges: Sequence[AudioRange],
    max_height: int | None,
    preset: str,
    crf: int,
    leak_check: LeakPass | None,
    progress: Progress | None,
) -> tuple[_Counts, LeakCheck | None]:
    started = time.perf_counter()
    audio_ranges = sorted(audio_ranges, key=lambda r: r.start_s)
    counts = _Counts(path=dst, rotation=info.rotation, audio_ranges=len(audio_ranges))
    with av.open(src) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        coded_w, coded_h = vin.codec_context.width, vin.codec_context.height
        out_w, out_h = output_size(coded_w, coded_h, info.rotation, max_height)
        t0 = start_seconds(vin, ain)
        duration = info.duration_s or 0.0
        with av.open(
            dst, mode="w", format="mp4", container_options={"movflags": "+faststart"}
        ) as out:
            vout = add_video(out, vin, out_w, out_h, info.rotation, preset, crf)
            counts.encoder = vout.codec_context.name
            audio = redacted_audio(out, ain, t0, audio_ranges) if ain is not None else None
            counts.has_audio = audio is not None
            mask = Masker(mode, out_w, out_h, info.rotation)
            zero = round(t0 / vin.time_base) if vin.time_base else 0
            last_pts = -1
            reported = -1.0
            frame_times = source.frame_times
            upright_w, upright_h = display_size(vin, info.rotation)
            camera = CameraMotion()
            source.attach(camera)
            waiting: deque[tuple[float, int, av.VideoFrame]] = deque()
            watch = (
                _Watch(leak_check, vout, info.rotation, out_w, out_h)
                if leak_check is not None
                else None
            )

            def write(t: float | None, packets: list[av.Packet[Any]]) -> None:
                if watch is not None:
                    watch.sent(t, packets)
                out.mux(packets)

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
                write(t, vout.encode(picture))
                counts.frames += 1
                if progress is not None and duration > 0:
                    done = min(1.0, t / duration)
                    if done - reported >= 0.01:
                        reported = done
                        progress(done)

            try:
                packets = Packets(inp, [vin] if ain is None else [vin, ain])
                for packet, decoded in packets:
                    if packet.stream is ain and audio is not None:
                        for aframe in decoded:
                            audio.push(aframe)
                        continue
                    for vframe in decoded:
                        t = frame_time(vframe, t0, frame_times)
                        index = len(frame_times)
                        frame_times.append(t)
                        pts = vframe.pts - zero if vframe.pts is not None else last_pts + 1
                        pts = max(pts, last_pts + 1)  # x264 needs increasing timestamps
                        last_pts = pts
                        camera.offer(
                            Picture(
                                vframe,
                                width=upright_w,
                                height=upright_h,
                                rotation=info.rotation,
                                time=t,
                            )
                        )
                        source.offer(index, t, vframe)
                        waiting.append((t, pts, to_output(vframe, out_w, out_h)))
                        while waiting and source.ready(waiting[0][0]):
                            emit(*waiting.popleft())
                camera.finish()
                source.finish()
                while waiting:
                    emit(*waiting.popleft())
                write(None, vout.encode(None))
                if audio is not None:
                    audio.finish()
                counts.decode_errors = packets.errors
            except BaseException:
                if watch is not None:  # no detector thread is left behind
                    watch.watch.close()
                raise
            check = watch.finish() if watch is not None else None
    if counts.frames == 0:
        raise RedactionError(f"{src}: no video frame could be decoded")
    if progress is not None:
        progress(1.0)
    counts.width, counts.height = out_w, out_h
    counts.duration_s = frame_times[-1] if frame_times else 0.0
    counts.seconds = time.perf_counter() - started
    return counts, check


class _Watch:
    """The render's leak check: the encoder's packets decoded again (H.264, so exactly
    what a player of the file shows) and handed to a LeakWatch in encoding order."""

    def __init__(
        self,
        options: LeakPass,
        vout: av.video.stream.VideoStream,
        rotation: int,
        coded_w: int,
        coded_h: int,
    ) -> None:
        # The copy's own size, upright (smaller than the source's under max_height).
        width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
        self.vout = vout
        self.coded = (coded_w, coded_h)
        self.times: deque[float] = deque()
        self.decoder: av.video.codeccontext.VideoCodecContext | None = None
        self.watch = LeakWatch(
            options.detector,
            width=width,
            height=height,
            rotation=rotation,
            stride=options.stride,
            background=True,
        )

    def sent(self, t: float | None, packets: list[av.Packet[Any]]) -> None:
        if t is not None:
            self.times.append(t)
        if self.decoder is None:
            decoder = av.CodecContext.create("h264", "r")
            if self.vout.codec_context.extradata:  # else SPS/PPS come in the stream
                decoder.extradata = self.vout.codec_context.extradata
            decoder.width, decoder.height = self.coded
            self.decoder = decoder
        assert self.decoder is not None
        for packet in packets:
            self._take(self.decoder.decode(packet))
        if t is None:  # the encoder is flushed: so is the decoder
            self._take(self.decoder.decode(None))

    def _take(self, frames: list[av.VideoFrame]) -> None:
        for frame in frames:
            if not self.times:
                raise RedactionError("the encoded copy decodes to more frames than were sent")
            self.watch.offer(frame, self.times.popleft())

    def finish(self) -> LeakCheck:
        if self.times:
            self.watch.close()
            raise RedactionError(
                f"{len(self.times)} frame(s) of the copy could not be decoded for the leak check"
            )
        return self.watch.result()
