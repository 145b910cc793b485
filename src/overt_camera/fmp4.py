"""Just enough of the ISO base media file format to recover a fragmented MP4 cut off by a
crash: find the last complete moof+mdat pair, and how much media the fragments hold.

A file from a killed run is `ftyp moov (moof mdat)* <partial>`; everything up to the last
complete pair plays, the partial tail is what was being written when power went.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class Box:
    kind: str
    start: int
    size: int  # 0 when the box runs past the end of the file (incomplete)
    header: int

    @property
    def end(self) -> int:
        return self.start + self.size


def boxes(handle: BinaryIO, start: int, end: int) -> list[Box]:
    """The boxes between `start` and `end`; the last has size 0 if it is cut short."""
    found: list[Box] = []
    offset = start
    while offset + 8 <= end:
        handle.seek(offset)
        size, kind_raw = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:
            if offset + 16 > end:
                break
            size = struct.unpack(">Q", handle.read(8))[0]
            header = 16
        elif size == 0:
            size = end - offset
        kind = kind_raw.decode("latin-1")
        if size < header or offset + size > end:
            found.append(Box(kind, offset, 0, header))
            break
        found.append(Box(kind, offset, size, header))
        offset += size
    return found


@dataclass(frozen=True)
class Scan:
    complete_bytes: int  # the file up to the end of its last complete fragment (or header)
    has_header: bool  # ftyp and a complete moov
    fragments: int
    media_seconds: float  # of the first video track, over the complete fragments


def scan(path: Path) -> Scan:
    size = path.stat().st_size
    with path.open("rb") as handle:
        top = boxes(handle, 0, size)
        complete = 0
        header = False
        fragments = 0
        timescales: dict[int, int] = {}
        trex: dict[int, int] = {}
        video_track: int | None = None
        ends: list[int] = []
        pending_moof: Box | None = None
        for box in top:
            if box.size == 0:
                break
            if box.kind == "moov":
                timescales, trex, video_track = _moov(handle, box)
                header = True
                complete = box.end
            elif box.kind == "ftyp" and not header:
                complete = box.end
            elif box.kind == "moof" and header:
                pending_moof = box
            elif box.kind == "mdat" and pending_moof is not None:
                end = _fragment_end(handle, pending_moof, trex, video_track)
                if end is not None:
                    ends.append(end)
                fragments += 1
                complete = box.end
                pending_moof = None
        scale = timescales.get(video_track or -1, 0)
        seconds = max(ends) / scale if ends and scale else 0.0
        return Scan(complete, header, fragments, seconds)


def _children(handle: BinaryIO, box: Box) -> list[Box]:
    return [b for b in boxes(handle, box.start + box.header, box.end) if b.size]


def _moov(handle: BinaryIO, moov: Box) -> tuple[dict[int, int], dict[int, int], int | None]:
    timescales: dict[int, int] = {}
    trex: dict[int, int] = {}
    video: int | None = None
    for child in _children(handle, moov):
        if child.kind == "trak":
            track_id, timescale, handler = _trak(handle, child)
            timescales[track_id] = timescale
            if handler == "vide" and video is None:
                video = track_id
        elif child.kind == "mvex":
            for item in _children(handle, child):
                if item.kind == "trex":
                    handle.seek(item.start + item.header + 4)
                    track_id, _, duration = struct.unpack(">III", handle.read(12))
                    trex[track_id] = duration
    return timescales, trex, video


def _trak(handle: BinaryIO, trak: Box) -> tuple[int, int, str]:
    track_id, timescale, handler = 0, 0, ""
    for child in _children(handle, trak):
        if child.kind == "tkhd":
            handle.seek(child.start + child.header)
            version = handle.read(1)[0]
            handle.seek(child.start + child.header + (20 if version == 1 else 12))
            track_id = struct.unpack(">I", handle.read(4))[0]
        elif child.kind == "mdia":
            for item in _children(handle, child):
                if item.kind == "mdhd":
                    handle.seek(item.start + item.header)
                    version = handle.read(1)[0]
                    handle.seek(item.start + item.header + (20 if version == 1 else 12))
                    timescale = struct.unpack(">I", handle.read(4))[0]
                elif item.kind == "hdlr":
                    handle.seek(item.start + item.header + 8)
                    handler = handle.read(4).decode("latin-1")
    return track_id, timescale, handler


def _fragment_end(
    handle: BinaryIO, moof: Box, trex: dict[int, int], video: int | None
) -> int | None:
    """End of the video track's media time after this fragment (tfdt + sample durations)."""
    for traf in (b for b in _children(handle, moof) if b.kind == "traf"):
        track_id, default_duration, base, total = 0, 0, 0, 0
        for item in _children(handle, traf):
            handle.seek(item.start + item.header)
            version_flags = struct.unpack(">I", handle.read(4))[0]
            version, flags = version_flags >> 24, version_flags & 0xFFFFFF
            if item.kind == "tfhd":
                track_id = struct.unpack(">I", handle.read(4))[0]
                default_duration = trex.get(track_id, 0)
                skip = 8 if flags & 0x1 else 0
                skip += 4 if flags & 0x2 else 0
                handle.seek(skip, 1)
                if flags & 0x8:
                    default_duration = struct.unpack(">I", handle.read(4))[0]
            elif item.kind == "tfdt":
                base = struct.unpack(
                    ">Q" if version == 1 else ">I", handle.read(8 if version == 1 else 4)
                )[0]
            elif item.kind == "trun":
                total += _trun_duration(handle, flags, default_duration)
        if track_id == video:
            return base + total
    return None


def _trun_duration(handle: BinaryIO, flags: int, default_duration: int) -> int:
    count = struct.unpack(">I", handle.read(4))[0]
    if flags & 0x1:
        handle.read(4)
    if flags & 0x4:
        handle.read(4)
    if not flags & 0x100:
        return int(count * default_duration)
    per_sample = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
    data = handle.read(per_sample * count)
    return sum(int(struct.unpack_from(">I", data, i * per_sample)[0]) for i in range(count))
