"""The pictures of a source, read without decoding (for cutting at exact frames), the
copy-or-re-encode plan of a cut, and PNG stills.

Times are seconds on the source's own timeline, zero at its earliest stream start, as
the proxy plays it. Pure: no Django.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from .derivatives import MediaError, start_seconds
from .h264 import has_idr
from .probe import probe


@dataclass(frozen=True, slots=True)
class StillResult:
    at_s: float  # the picture's time on the source's timeline
    frame: int  # 0-based picture number in display order
    pts: int
    width: int
    height: int
    size: int


class ClipError(MediaError):
    """The range cannot be cut (empty, outside the footage, unplayable source)."""


@dataclass(slots=True)
class Picture:
    pts: int
    dts: int | None
    decode_index: int  # position in decode order
    idr: bool


@dataclass(slots=True)
class PictureIndex:
    """Every video packet of the source, read without decoding."""

    time_base: Fraction
    zero: float  # seconds: the timeline's origin (earliest stream start), as the proxy's
    pictures: list[Picture] = field(default_factory=list)  # display order

    def time_of(self, picture: Picture) -> float:
        return float(picture.pts * self.time_base) - self.zero

    def frame_duration(self) -> float:
        if len(self.pictures) < 2:
            return 1 / 25
        span = self.time_of(self.pictures[-1]) - self.time_of(self.pictures[0])
        return span / (len(self.pictures) - 1) if span > 0 else 1 / 25

    def nearest(self, t: float) -> int:
        """The picture showing at `t`: the last one starting at or before it (1 ms of
        grace, so a picture's own start time, rounded by a player, still finds it)."""
        times = np.array([self.time_of(p) for p in self.pictures])
        at = int(np.searchsorted(times, t + 0.001, side="right")) - 1
        return max(0, min(at, len(self.pictures) - 1))


def index_pictures(container: av.container.InputContainer, length_size: int | None) -> PictureIndex:
    vin = container.streams.video[0]
    ain = container.streams.audio[0] if container.streams.audio else None
    index = PictureIndex(vin.time_base or Fraction(1, 90_000), start_seconds(vin, ain))
    count = 0
    last_pts = None
    for packet in container.demux(vin):
        if packet.size == 0:
            continue
        pts = packet.pts if packet.pts is not None else packet.dts
        if pts is None:
            pts = (last_pts or 0) + 1
        last_pts = pts
        idr = bool(packet.is_keyframe) and (
            length_size is None or has_idr(bytes(packet), length_size)
        )
        index.pictures.append(Picture(pts, packet.dts, count, idr))
        count += 1
    index.pictures.sort(key=lambda p: (p.pts, p.decode_index))
    if not index.pictures:
        raise ClipError("the source has no video pictures")
    return index


@dataclass(frozen=True, slots=True)
class CutPlan:
    first: int  # display-order positions of the first and last pictures kept
    last: int
    copy_from: int | None  # display position of the IDR where copying starts
    copy_until: int | None  # display position of the last copied picture
    tail_copied: bool

    @classmethod
    def make(cls, index: PictureIndex, first: int, last: int, smart: bool) -> CutPlan:
        pictures = index.pictures
        if not smart:
            return cls(first, last, None, None, False)
        idrs = [i for i in range(first, last + 1) if pictures[i].idr]
        if not idrs:
            return cls(first, last, None, None, False)
        copy_from, tail_idr = idrs[0], idrs[-1]
        # Can the tail GOP be copied up to `last`? Only if the pictures it needs for
        # 'tail_idr..last' are exactly the first ones of that GOP in decode order.
        wanted = {pictures[i].decode_index for i in range(tail_idr, last + 1)}
        start = pictures[tail_idr].decode_index
        tail_copied = wanted == set(range(start, start + len(wanted)))
        if tail_copied:
            return cls(first, last, copy_from, last, True)
        if tail_idr == copy_from:  # the only IDR: copy nothing, re-encode from it
            return cls(first, last, None, None, False)
        return cls(first, last, copy_from, tail_idr - 1, False)


# --- stills -------------------------------------------------------------------------


def make_still(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], at_s: float
) -> StillResult:
    """The picture shown at `at_s` (seconds on the source's timeline), upright, at full
    resolution, as PNG."""
    info = probe(src)
    if not info.playable:
        raise ClipError(f"unplayable source: {info.problem}")
    with av.open(os.fspath(src)) as inp:
        index = index_pictures(inp, None)
    position = index.nearest(max(0.0, at_s))
    wanted = index.pictures[position]
    with av.open(os.fspath(src)) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        inp.seek(wanted.pts, stream=vin, backward=True, any_frame=False)
        chosen = None
        for packet in inp.demux(vin):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue
            for frame in frames:
                if frame.pts is not None and frame.pts >= wanted.pts:
                    chosen = frame
                    break
            if chosen is not None:
                break
        if chosen is None or chosen.pts != wanted.pts:
            raise ClipError(f"the picture at {at_s:.3f} s could not be decoded")
        image = chosen.to_image()
    turn = {
        90: Image.Transpose.ROTATE_270,  # PIL turns counter-clockwise
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }.get(info.rotation)
    if turn is not None:
        image = image.transpose(turn)
    image.save(os.fspath(dst), format="PNG", optimize=False)
    return StillResult(
        at_s=index.time_of(wanted),
        frame=position,
        pts=wanted.pts,
        width=image.width,
        height=image.height,
        size=os.path.getsize(dst),
    )
