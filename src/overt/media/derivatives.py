"""Derivatives of evidence media: browser proxy, poster, scrub sprite (the waveform is
in overt.media.waveform).

Every function reads `src` and writes `dst`; the caller stores the file and records
provenance using `GENERATOR` / `GENERATOR_VERSION` (overt.media.catalogue). Outputs
carry no timestamps, so a re-run on the same machine and library versions reproduces
them. Just over 400 lines because the three share the private decoding helpers at the
end, which the clip cutter and the redaction renderer also use.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import av
from av.container import InputContainer
from av.filter import Graph
from av.video.stream import VideoStream
from PIL import Image

from overt.media.audio import AacEncoder
from overt.media.probe import VideoInfo, probe

GENERATOR = "overt.media"
# Bump RECIPE when encoding choices change; library versions make provenance exact.
_RECIPE = "1"
GENERATOR_VERSION = ";".join(
    [
        f"recipe={_RECIPE}",
        f"pyav={av.__version__}",
        f"ffmpeg={av.ffmpeg_version_info}",
        *(f"{lib}={'.'.join(map(str, v))}" for lib, v in sorted(av.library_versions.items())),
    ]
)

# delay_moov lets the muxer see the first packets before writing the (empty) moov, so
# it can record edit lists for AAC priming; without it audio lands 1024 samples late.
FRAGMENTED_MP4_FLAGS = "frag_keyframe+empty_moov+default_base_moof+delay_moov"
_GOP_SECONDS = 2.0
_JPEG_QUALITY = 85

Progress = Callable[[float], None]


class MediaError(Exception):
    """The source cannot be turned into a derivative (unplayable, no video, ...)."""


@dataclass(frozen=True, slots=True)
class ProxyResult:
    width: int
    height: int
    duration_s: float
    video_codec: str
    audio_codec: str | None
    has_audio: bool
    frames: int
    rotation_applied: int
    decode_errors: int
    size: int


@dataclass(frozen=True, slots=True)
class PosterResult:
    width: int
    height: int
    at_s: float
    size: int


@dataclass(frozen=True, slots=True)
class SpriteResult:
    columns: int
    rows: int
    tile_width: int
    tile_height: int
    interval_s: float
    count: int
    width: int
    height: int
    size: int


# --- proxy --------------------------------------------------------------------------


def make_proxy(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    max_height: int = 720,
    progress: Progress | None = None,
) -> ProxyResult:
    """Transcode to a browser-friendly fragmented MP4 (H.264 yuv420p + AAC).

    Rotation is applied to the pixels (the proxy needs no display matrix), the picture
    is scaled to at most `max_height` with even dimensions, and source timestamps are
    kept (VFR stays VFR), rebased so the earliest stream starts at zero.
    """
    info = _require_playable(src)
    dst = os.fspath(dst)
    with av.open(os.fspath(src)) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        disp_w, disp_h = _display_size(vin, info.rotation)
        out_w, out_h = _fit_even(disp_w, disp_h, max_height)
        t0 = _start_seconds(vin, ain)
        duration = info.duration_s or 0.0

        with av.open(
            dst, mode="w", format="mp4", container_options={"movflags": FRAGMENTED_MP4_FLAGS}
        ) as out:
            vout = _add_h264_stream(out, vin, out_w, out_h)
            graph = _video_graph(vin, info.rotation, out_w, out_h)
            audio = AacEncoder(out, ain, t0) if ain is not None else None

            frames = 0
            last_pts = -1
            reported = -1.0
            # FFmpeg gives every opened stream a time base; PyAV's types allow None.
            time_base = cast(Fraction, vin.time_base)
            zero = round(t0 / time_base)
            packets = _Packets(inp, [vin] if ain is None else [vin, ain])
            for packet, decoded in packets:
                if packet.stream is ain and audio is not None:
                    for aframe in decoded:
                        audio.push(aframe)
                    continue
                for vframe in decoded:
                    pts = vframe.pts - zero if vframe.pts is not None else last_pts + 1
                    # x264 rejects non-increasing timestamps; nudge duplicates forward.
                    pts = max(pts, last_pts + 1)
                    last_pts = pts
                    vframe.pts = pts
                    graph.vpush(vframe)
                    frames += _drain_video(graph, out, vout)
                    if progress is not None and duration > 0:
                        done = min(1.0, float(pts * time_base) / duration)
                        if done - reported >= 0.01:
                            reported = done
                            progress(done)
            graph.vpush(None)
            frames += _drain_video(graph, out, vout)
            out.mux(vout.encode(None))
            if audio is not None:
                audio.finish()
    if frames == 0:
        raise MediaError(f"{src}: no video frames could be decoded")
    if progress is not None:
        progress(1.0)
    result = probe(dst)
    return ProxyResult(
        width=out_w,
        height=out_h,
        duration_s=result.duration_s or 0.0,
        video_codec=vout.codec_context.name,
        audio_codec="aac" if audio is not None else None,
        has_audio=audio is not None,
        frames=frames,
        rotation_applied=info.rotation,
        decode_errors=packets.errors,
        size=os.path.getsize(dst),
    )


class _Packets:
    """Demuxed packets with their decoded frames, skipping (and counting) damage.

    A corrupt packet is skipped; a read error ends the stream early, so a truncated
    source yields a proxy of what is there rather than nothing.
    """

    def __init__(self, container: InputContainer, streams: Sequence[av.stream.Stream]):
        self.container, self.streams = container, streams
        self.errors = 0

    # Any: a packet's frames are video or audio ones, by the stream it came from.
    def __iter__(self) -> Iterator[tuple[av.Packet[Any], list[Any]]]:
        demuxer = self.container.demux(*self.streams)
        while True:
            try:
                packet = next(demuxer)
            except StopIteration:
                return
            except av.FFmpegError:
                self.errors += 1
                return
            try:
                frames = list(packet.decode())
            except av.FFmpegError:
                self.errors += 1
                continue
            yield packet, frames


def _h264_encoder() -> str:
    for name in ("libx264", "h264"):
        try:
            av.Codec(name, "w")
        except ValueError:  # UnknownCodecError: not built into this FFmpeg
            pass
        else:
            return name
    raise MediaError("no H.264 encoder in this FFmpeg build")


def _add_h264_stream(
    out: av.container.OutputContainer, vin: VideoStream, width: int, height: int
) -> VideoStream:
    rate = vin.average_rate or vin.guessed_rate or Fraction(30)
    name = _h264_encoder()
    # No B-frames: presentation starts at the first decoded frame, so players that
    # ignore edit lists still show video and audio in sync.
    options = {"preset": "veryfast", "crf": "23", "bf": "0"} if name == "libx264" else {}
    vout = cast(VideoStream, out.add_stream(name, rate=rate, options=options))  # H.264: video
    vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
    # Source time base keeps VFR timestamps exact.
    vout.codec_context.time_base = vin.time_base or Fraction(1, 90_000)
    vout.time_base = vout.codec_context.time_base
    vout.gop_size = max(1, round(float(rate) * _GOP_SECONDS))
    if name != "libx264":
        vout.bit_rate = 2_500_000
    return vout


def _video_graph(vin: VideoStream, rotation: int, width: int, height: int) -> Graph:
    graph = Graph()
    chain = [graph.add_buffer(template=vin)]
    if rotation == 90:
        chain.append(graph.add("transpose", "clock"))
    elif rotation == 180:
        chain += [graph.add("hflip"), graph.add("vflip")]
    elif rotation == 270:
        chain.append(graph.add("transpose", "cclock"))
    chain += [
        graph.add("scale", f"{width}:{height}"),
        graph.add("setsar", "1"),
        graph.add("format", "yuv420p"),
        graph.add("buffersink"),
    ]
    graph.link_nodes(*chain).configure()
    return graph


def _drain_video(graph: Graph, out: av.container.OutputContainer, vout: VideoStream) -> int:
    count = 0
    while True:
        try:
            frame = graph.vpull()
        except (BlockingIOError, EOFError):
            return count
        except av.FFmpegError:  # EAGAIN surfaces as an FFmpegError in some builds
            return count
        frame.pict_type = 0  # let the encoder choose frame types
        out.mux(vout.encode(frame))
        count += 1


# --- poster and sprite --------------------------------------------------------------


def make_poster(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    at_s: float | None = None,
    max_height: int = 720,
) -> PosterResult:
    """JPEG of one upright frame; by default ~10% in (at least 1 s, at most half-way)."""
    info = _require_playable(src)
    duration = info.duration_s or 0.0
    if at_s is None:
        at_s = min(max(1.0, 0.1 * duration), 0.5 * duration)
    at_s = max(0.0, min(at_s, duration))
    with av.open(os.fspath(src)) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        disp_w, disp_h = _display_size(vin, info.rotation)
        _, frame = next(_frames_at(inp, vin, [at_s]))
        height = min(max_height, disp_h)
        width = max(1, round(disp_w * height / disp_h))
        image = _upright(frame.to_image(), info.rotation).resize(
            (width, height), Image.Resampling.LANCZOS
        )
        actual = max(0.0, float(frame.time or 0.0) - _start_seconds(vin, None))
    image.save(os.fspath(dst), format="JPEG", quality=_JPEG_QUALITY)
    return PosterResult(width=width, height=height, at_s=actual, size=os.path.getsize(dst))


def make_sprite(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    columns: int = 10,
    tile_width: int = 160,
    interval_s: float | None = None,
) -> SpriteResult:
    """Scrub sprite sheet: tile i shows time i * interval_s, laid out row-major.

    The default interval keeps the sheet to at most 100 tiles, and never under 1 s.
    """
    info = _require_playable(src)
    duration = info.duration_s or 0.0
    if interval_s is None:
        interval_s = max(1.0, duration / 100)
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    count = max(1, math.ceil(duration / interval_s - 1e-9))
    times = [i * interval_s for i in range(count)]
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)

    with av.open(os.fspath(src)) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        disp_w, disp_h = _display_size(vin, info.rotation)
        tile_height = max(1, round(tile_width * disp_h / disp_w))
        sheet = Image.new("RGB", (columns * tile_width, rows * tile_height))
        for index, (_, frame) in enumerate(_frames_at(inp, vin, times)):
            tile = _upright(frame.to_image(), info.rotation).resize(
                (tile_width, tile_height), Image.Resampling.BILINEAR, reducing_gap=2.0
            )
            sheet.paste(tile, ((index % columns) * tile_width, (index // columns) * tile_height))
    sheet.save(os.fspath(dst), format="JPEG", quality=75)
    return SpriteResult(
        columns=columns,
        rows=rows,
        tile_width=tile_width,
        tile_height=tile_height,
        interval_s=interval_s,
        count=count,
        width=sheet.width,
        height=sheet.height,
        size=os.path.getsize(dst),
    )


def _frames_at(
    container: InputContainer, stream: VideoStream, times: Sequence[float], seek_gap_s: float = 4.0
) -> Iterator[tuple[float, av.VideoFrame]]:
    """For each ascending time (s from start), the first frame at or after it.

    Decodes forward between nearby targets and seeks to the preceding keyframe when
    the next target is more than `seek_gap_s` ahead, so long files are not decoded in
    full. Past the end of the stream, the last frame stands in.
    """
    tb = stream.time_base or Fraction(1, 90_000)
    start = _start_seconds(stream, None)
    half_frame = 0.5 / float(stream.average_rate) if stream.average_rate else 0.001
    decoder: Iterator[av.VideoFrame] | None = None
    last: av.VideoFrame | None = None
    position = 0.0
    for target in times:
        if target - position > seek_gap_s:
            try:
                container.seek(round((start + target) / tb), stream=stream, backward=True)
                decoder = None
            except av.FFmpegError:
                pass  # unseekable: decoding forward is slower but still correct
        if decoder is None:
            decoder = _safe_decode(container, stream)
        chosen = None
        for frame in decoder:
            last = frame
            position = float(frame.time or 0.0) - start
            if position >= target - half_frame:
                chosen = frame
                break
        if chosen is None:
            if last is None:
                raise MediaError("no video frame could be decoded")
            chosen = last
        yield target, chosen


def _safe_decode(container: InputContainer, stream: VideoStream) -> Iterator[av.VideoFrame]:
    for packet in container.demux(stream):
        try:
            yield from packet.decode()
        except av.FFmpegError:
            continue  # a corrupt packet: the next keyframe will recover


def _upright(image: Image.Image, rotation: int) -> Image.Image:
    turn = {
        90: Image.Transpose.ROTATE_270,  # PIL turns counter-clockwise
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }.get(rotation)
    return image.transpose(turn) if turn is not None else image


# --- shared -------------------------------------------------------------------------


def _require_playable(src: str | os.PathLike[str]) -> VideoInfo:
    info = probe(src)  # FileNotFoundError propagates: a missing file is a caller bug
    if not info.playable:
        raise MediaError(f"{os.fspath(src)}: unplayable source: {info.problem}")
    return info


def _start_seconds(video: VideoStream, audio: av.audio.AudioStream | None) -> float:
    starts = [
        float(s.start_time * s.time_base)
        for s in (video, audio)
        if s is not None and s.start_time is not None and s.time_base is not None
    ]
    return min(starts) if starts else 0.0


def _display_size(vin: VideoStream, rotation: int) -> tuple[int, int]:
    width, height = vin.codec_context.width, vin.codec_context.height
    sar = vin.sample_aspect_ratio
    if sar and sar > 0 and sar != 1:
        width = max(1, round(width * sar))
    return (height, width) if rotation in (90, 270) else (width, height)


def _fit_even(width: int, height: int, max_height: int) -> tuple[int, int]:
    out_h = max(2, min(height, max_height) // 2 * 2)
    out_w = max(2, round(width * out_h / height / 2) * 2)
    return out_w, out_h


# Public names for the other readers of sources (the waveform, the clip cutter and the
# redaction renderer): same start offset, display size, encoder choice and demuxing.
start_seconds = _start_seconds
require_playable = _require_playable
display_size = _display_size
h264_encoder = _h264_encoder
Packets = _Packets
