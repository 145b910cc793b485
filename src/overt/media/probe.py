"""Fast, non-throwing inspection of a media file.

`probe()` opens the container, reads stream parameters and decodes only the first
video frame. It never decodes the whole file, so it is cheap enough to run on ingest.
"""

from __future__ import annotations

import os
import struct
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import av
from av.container import InputContainer
from av.video.stream import VideoStream

# Give up looking for the first decodable frame after this many packets: a healthy
# file yields one within a handful, and we must stay fast on garbage.
_MAX_PACKETS_FOR_FIRST_FRAME = 300


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What a media file is, and whether we can play it.

    `rotation` is the clockwise rotation (0, 90, 180 or 270) needed to show the stored
    picture upright -- the meaning of the legacy MP4 `rotate` tag. `width`/`height`
    are the stored (coded) dimensions, before that rotation.

    `playable` is True when the container opens, it has a video stream and the first
    video frame decodes. `problem` explains a False `playable`; it may also be set on a
    playable file that is damaged further in (e.g. "truncated: ..."), so `problem is
    None` means "no defect found", not merely "playable".
    """

    container: str | None
    video_codec: str | None
    audio_codec: str | None
    duration_s: float | None
    width: int | None
    height: int | None
    fps: float | None
    rotation: int
    audio_sample_rate: int | None
    audio_channels: int | None
    bit_rate: int | None
    creation_time: datetime | None
    playable: bool
    problem: str | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.creation_time is not None:
            data["creation_time"] = self.creation_time.isoformat().replace("+00:00", "Z")
        return data


def _unplayable(problem: str, **known: Any) -> VideoInfo:
    fields: dict[str, Any] = {
        "container": None,
        "video_codec": None,
        "audio_codec": None,
        "duration_s": None,
        "width": None,
        "height": None,
        "fps": None,
        "rotation": 0,
        "audio_sample_rate": None,
        "audio_channels": None,
        "bit_rate": None,
        "creation_time": None,
    }
    fields.update(known)
    return VideoInfo(**fields, playable=False, problem=problem)


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Describe `path`. Raises FileNotFoundError only if it does not exist.

    Any other failure (empty file, not media, truncated, undecodable) comes back as
    `playable=False` with a human-readable `problem`.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    if not os.path.isfile(path):
        return _unplayable("not a regular file")
    size = os.path.getsize(path)
    if size == 0:
        return _unplayable("empty file (0 bytes)")

    boxes = _scan_mp4_boxes(path, size)
    try:
        container = av.open(path, mode="r")
    except Exception as exc:  # FFmpeg raises many error types for bad input
        return _unplayable(_open_problem(boxes, exc))
    try:
        return _inspect(container, boxes, size)
    except Exception as exc:
        return _unplayable(f"could not read media: {exc}")
    finally:
        container.close()


def _inspect(container: InputContainer, boxes: _Boxes | None, size: int) -> VideoInfo:
    video = container.streams.video[0] if container.streams.video else None
    audio = container.streams.audio[0] if container.streams.audio else None

    duration_s: float | None = None
    if container.duration is not None and container.duration > 0:
        duration_s = container.duration / av.time_base
    elif video is not None and video.duration and video.time_base:
        duration_s = float(video.duration * video.time_base)

    known: dict[str, Any] = {
        "container": container.format.name,
        "video_codec": video.codec_context.name if video else None,
        "audio_codec": audio.codec_context.name if audio else None,
        "duration_s": duration_s,
        "width": (video.codec_context.width or None) if video else None,
        "height": (video.codec_context.height or None) if video else None,
        "fps": float(video.average_rate) if video and video.average_rate else None,
        "rotation": _legacy_rotate_tag(video) if video else 0,
        "audio_sample_rate": (audio.codec_context.sample_rate or None) if audio else None,
        "audio_channels": (audio.codec_context.channels or None) if audio else None,
        "bit_rate": container.bit_rate or None,
        "creation_time": _parse_creation_time(container.metadata.get("creation_time")),
    }
    if video is None:
        return _unplayable("no video stream", **known)

    frame, error = _first_frame(container, video)
    if frame is None:
        return _unplayable(f"first video frame could not be decoded ({error})", **known)
    if frame.rotation:
        # PyAV reports the display matrix counter-clockwise; store clockwise.
        known["rotation"] = _normalise_rotation(-frame.rotation)
    known["width"] = known["width"] or frame.width
    known["height"] = known["height"] or frame.height

    return VideoInfo(**known, playable=True, problem=_truncation(video, boxes, size))


def _first_frame(container: InputContainer, video: VideoStream) -> tuple[av.VideoFrame | None, str]:
    error = "no frame in the first packets"
    try:
        for count, packet in enumerate(container.demux(video)):
            if count >= _MAX_PACKETS_FOR_FIRST_FRAME:
                break
            for frame in packet.decode():
                return frame, ""
        else:
            error = "stream ended before any frame decoded"
    except Exception as exc:
        error = str(exc)
    return None, error


def _normalise_rotation(degrees: float) -> int:
    return round(degrees / 90.0) * 90 % 360


def _legacy_rotate_tag(video: VideoStream) -> int:
    try:
        return _normalise_rotation(float(video.metadata.get("rotate", 0)))
    except ValueError:
        return 0


def _parse_creation_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:  # MP4 times are UTC by definition
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- ISO-BMFF (MP4/MOV) top-level box scan, only to explain failures precisely -----


@dataclass(frozen=True, slots=True)
class _Boxes:
    names: tuple[str, ...]
    # (name, declared end offset) of a box that runs past the end of the file
    overrun: tuple[str, int] | None


def _scan_mp4_boxes(path: str, size: int) -> _Boxes | None:
    """Walk top-level boxes (header reads only). None if it doesn't look like MP4."""
    names: list[str] = []
    offset = 0
    with open(path, "rb") as fh:
        while offset + 8 <= size and len(names) < 10_000:
            fh.seek(offset)
            header = fh.read(16)
            box_size, raw_name = struct.unpack(">I4s", header[:8])
            name = raw_name.decode("latin-1")
            if not names and name not in {"ftyp", "free", "skip", "wide", "moov", "mdat"}:
                return None
            if box_size == 1 and len(header) == 16:
                box_size = struct.unpack(">Q", header[8:16])[0]
            elif box_size == 0:  # "extends to end of file"
                box_size = size - offset
            if box_size < 8:
                return _Boxes(tuple(names), (name, offset + box_size))
            names.append(name)
            if offset + box_size > size:
                return _Boxes(tuple(names), (name, offset + box_size))
            offset += box_size
    if offset < size:  # a partial box header: the file was cut mid-write
        return _Boxes(tuple(names), ("?", offset + 8))
    return _Boxes(tuple(names), None)


def _open_problem(boxes: _Boxes | None, exc: Exception) -> str:
    if boxes is not None and "moov" not in boxes.names and "moof" not in boxes.names:
        return (
            "incomplete MP4: no 'moov' index box, so the recording was probably never "
            "finalised (e.g. the camera lost power or the upload was cut short)"
        )
    if boxes is not None and boxes.overrun is not None:
        return f"truncated MP4: '{boxes.overrun[0]}' box runs past the end of the file"
    return f"not a readable media container ({_ffmpeg_reason(exc)})"


def _ffmpeg_reason(exc: Exception) -> str:
    if isinstance(exc, av.FFmpegError) and exc.strerror:
        return str(exc.strerror)
    return str(exc)


def _truncation(video: VideoStream, boxes: _Boxes | None, size: int) -> str | None:
    """Explain damage beyond the first frame, when cheaply detectable."""
    if boxes is not None and boxes.overrun is not None:
        name, end = boxes.overrun
        return f"truncated: '{name}' box declares {end} bytes of file but only {size} exist"
    try:
        entries = video.index_entries
        if len(entries):
            last = entries[len(entries) - 1]
            if last.pos + last.size > size:
                return "truncated: video sample data runs past the end of the file"
    except Exception:  # index access is a best-effort diagnostic
        return None
    return None
