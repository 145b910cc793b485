"""Frame-accurate clips and PNG stills, cut from the original (never from the proxy).

A clip keeps the camera's own encoding wherever it can. H.264 can only start decoding
at an IDR picture, so a cut rarely falls on one; the pictures from the in-point up to
the next IDR (the head) and from the last IDR before the out-point (the tail, when its
pictures are reordered past the out-point) are decoded and re-encoded, and every
packet between is copied byte for byte. The re-encoded parts use their own parameter
set ids (1 and 2), added to the clip's avcC beside the camera's, so one track holds
both. Sources that are not H.264 in MP4/MOV are re-encoded whole (`method` says which).

Audio packets overlapping the range are copied (AAC frames are ~21 ms, so the audio
may start up to one frame early; the MP4 edit list hides it), or re-encoded to AAC
where the source's codec cannot go into MP4.

Every function reads `src` and writes `dst`; the caller stores the file and records
the provenance (see overt.review.derive).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from overt.media.derivatives import (
    MediaError,
    display_size,
    h264_encoder,
    start_seconds,
)
from overt.media.probe import probe

GENERATOR = "overt.review.clips"
_RECIPE = "1"
GENERATOR_VERSION = ";".join(
    [
        f"recipe={_RECIPE}",
        f"pyav={av.__version__}",
        f"ffmpeg={av.ffmpeg_version_info}",
        *(f"{lib}={'.'.join(map(str, v))}" for lib, v in sorted(av.library_versions.items())),
    ]
)
REENCODE_CRF = "16"  # visually lossless for the few pictures re-encoded at a cut
COPYABLE_AUDIO = {"aac", "mp3", "alac"}
MAX_CLIP_S = 4 * 3600.0

Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class ClipResult:
    method: str  # "smart-cut" (copy between re-encoded cuts) or "re-encode"
    in_s: float  # the first picture's time on the source's timeline
    out_s: float  # the last picture's time
    duration_s: float
    first_frame: int  # 0-based picture numbers in the source, in display order
    last_frame: int
    frames: int
    reencoded_frames: int
    copied_frames: int
    audio: str  # "copy", "re-encode" or "none"
    width: int
    height: int
    size: int


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


# --- the source's pictures ----------------------------------------------------------


@dataclass(slots=True)
class _Picture:
    pts: int
    dts: int | None
    decode_index: int  # position in decode order
    idr: bool


@dataclass(slots=True)
class _Index:
    """Every video packet of the source, read without decoding."""

    time_base: Fraction
    zero: float  # seconds: the timeline's origin (earliest stream start), as the proxy's
    pictures: list[_Picture] = field(default_factory=list)  # display order

    def time_of(self, picture: _Picture) -> float:
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


def _index(container: av.container.InputContainer, length_size: int | None) -> _Index:
    vin = container.streams.video[0]
    ain = container.streams.audio[0] if container.streams.audio else None
    index = _Index(vin.time_base or Fraction(1, 90_000), start_seconds(vin, ain))
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
            length_size is None or _has_idr(bytes(packet), length_size)
        )
        index.pictures.append(_Picture(pts, packet.dts, count, idr))
        count += 1
    index.pictures.sort(key=lambda p: (p.pts, p.decode_index))
    if not index.pictures:
        raise ClipError("the source has no video pictures")
    return index


# --- H.264 bitstream helpers ------------------------------------------------------------


def _nal_units_avcc(data: bytes, length_size: int) -> Iterator[bytes]:
    i = 0
    while i + length_size <= len(data):
        size = int.from_bytes(data[i : i + length_size], "big")
        i += length_size
        yield data[i : i + size]
        i += size


def _nal_units_annexb(data: bytes) -> list[bytes]:
    units, i, n = [], 0, len(data)
    starts = []
    while i + 3 <= n:
        if data[i] == 0 and data[i + 1] == 0 and data[i + 2] == 1:
            starts.append(i + 3)
            i += 3
        else:
            i += 1
    for k, start in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else n
        unit = data[start:end]
        while unit.endswith(b"\x00") and k + 1 < len(starts):
            unit = unit[:-1]  # the leading zero of a 4-byte start code
        units.append(unit)
    return units


def _is_annexb(data: bytes) -> bool:
    return data.startswith(b"\x00\x00\x01") or data.startswith(b"\x00\x00\x00\x01")


def _has_idr(data: bytes, length_size: int) -> bool:
    return any(unit and unit[0] & 0x1F == 5 for unit in _nal_units_avcc(data, length_size))


@dataclass(slots=True)
class _AvcC:
    profile: int
    compatibility: int
    level: int
    length_size: int
    sps: list[bytes]
    pps: list[bytes]
    trailer: bytes  # the High-profile fields (chroma format, bit depths, SPS extensions)

    @classmethod
    def parse(cls, data: bytes) -> _AvcC | None:
        if len(data) < 7 or data[0] != 1:
            return None
        length_size = (data[4] & 0x03) + 1
        count, i = data[5] & 0x1F, 6
        sps = []
        for _ in range(count):
            size = int.from_bytes(data[i : i + 2], "big")
            sps.append(data[i + 2 : i + 2 + size])
            i += 2 + size
        count, i = data[i], i + 1
        pps = []
        for _ in range(count):
            size = int.from_bytes(data[i : i + 2], "big")
            pps.append(data[i + 2 : i + 2 + size])
            i += 2 + size
        return cls(data[1], data[2], data[3], length_size, sps, pps, data[i:])

    def build(self) -> bytes:
        out = bytearray(
            [1, self.profile, self.compatibility, self.level, 0xFC | (self.length_size - 1)]
        )
        out.append(0xE0 | len(self.sps))
        for unit in self.sps:
            out += len(unit).to_bytes(2, "big") + unit
        out.append(len(self.pps))
        for unit in self.pps:
            out += len(unit).to_bytes(2, "big") + unit
        if self.profile in (100, 110, 122, 144):
            out += self.trailer or bytes([0xFD, 0xF8, 0xF8, 0x00])  # 4:2:0, 8 bit, no ext
        return bytes(out)


_X264_PROFILES = {66: "baseline", 77: "main", 100: "high"}


def _to_avcc(data: bytes, length_size: int) -> bytes:
    """An encoder's packet as length-prefixed NAL units, without parameter sets."""
    if not _is_annexb(data):
        return data
    out = bytearray()
    for unit in _nal_units_annexb(data):
        if not unit or unit[0] & 0x1F in (7, 8, 9):  # SPS, PPS, access unit delimiter
            continue
        out += len(unit).to_bytes(length_size, "big") + unit
    return bytes(out)


# --- the clip -----------------------------------------------------------------------------


def make_clip(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    in_s: float,
    out_s: float,
    progress: Progress | None = None,
) -> ClipResult:
    """Cut the pictures shown from `in_s` to `out_s` (both included; seconds on the
    source's own timeline, zero at its earliest stream, as the proxy plays it)."""
    info = probe(src)
    if not info.playable:
        raise ClipError(f"unplayable source: {info.problem}")
    if not out_s >= in_s >= 0:
        raise ClipError("the out-point must not come before the in-point")
    if out_s - in_s > MAX_CLIP_S:
        raise ClipError(f"a clip may be at most {MAX_CLIP_S / 3600:.0f} hours long")
    with av.open(os.fspath(src)) as inp:
        vin = inp.streams.video[0]
        avcc = _AvcC.parse(bytes(vin.codec_context.extradata or b""))
        smart = vin.codec_context.name == "h264" and avcc is not None
        index = _index(inp, avcc.length_size if smart and avcc else None)
    duration = index.time_of(index.pictures[-1])
    if in_s > duration + index.frame_duration():
        raise ClipError(f"the in-point is after the end of the footage ({duration:.3f} s)")
    first = index.nearest(in_s)
    last = index.nearest(out_s)
    plan = _Plan.make(index, first, last, smart)
    with av.open(os.fspath(src)) as inp:
        result = _Cutter(inp, os.fspath(dst), index, plan, avcc, info.rotation).run(progress)
    return result


@dataclass(frozen=True, slots=True)
class _Plan:
    first: int  # display-order positions of the first and last pictures kept
    last: int
    copy_from: int | None  # display position of the IDR where copying starts
    copy_until: int | None  # display position of the last copied picture
    tail_copied: bool

    @classmethod
    def make(cls, index: _Index, first: int, last: int, smart: bool) -> _Plan:
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


class _Cutter:
    """Reads the source once, from the IDR before the first picture, in decode order:
    packets of copied pictures go straight to the clip, the rest through a decoder and
    the head's or tail's encoder."""

    def __init__(
        self,
        inp: av.container.InputContainer,
        dst: str,
        index: _Index,
        plan: _Plan,
        avcc: _AvcC | None,
        rotation: int,
    ) -> None:
        self.inp, self.dst, self.index, self.plan, self.rotation = inp, dst, index, plan, rotation
        self.vin = inp.streams.video[0]
        self.ain = inp.streams.audio[0] if inp.streams.audio else None
        self.avcc = avcc
        pictures = index.pictures
        kept = pictures[plan.first : plan.last + 1]
        self.base = kept[0].pts  # becomes zero in the clip
        self.keep = {p.pts for p in kept}
        self.decode_index = {p.pts: p.decode_index for p in pictures}
        self.last_decode = max(p.decode_index for p in kept)
        if plan.copy_from is not None and plan.copy_until is not None:
            copied = pictures[plan.copy_from : plan.copy_until + 1]
            self.copy_range: tuple[int, int] | None = (
                min(p.decode_index for p in copied),
                max(p.decode_index for p in copied),
            )
        else:
            self.copy_range = None
        start = plan.first
        while start > 0 and not pictures[start].idr:
            start -= 1  # decoding must begin at an IDR (or the file's first picture)
        self.seek_pts = pictures[start].pts
        self.first_decode = min(p.decode_index for p in pictures[start : plan.first + 1])
        self.clip_start = index.time_of(kept[0])
        self.clip_end = index.time_of(kept[-1]) + index.frame_duration()

    def run(self, progress: Progress | None) -> ClipResult:
        vin, ain = self.vin, self.ain
        with av.open(
            self.dst, mode="w", format="mp4", container_options={"movflags": "+faststart"}
        ) as out:
            self.out = out
            head, tail = self._video_stream(out)
            aout, audio_mode, audio_encoder = self._audio_stream(out)
            self.inp.seek(self.seek_pts, stream=vin, backward=True, any_frame=False)
            streams = [vin] if aout is None else [vin, ain]
            decoder: _Decoder | None = None
            copied = reencoded = 0
            video_done, audio_done = False, aout is None
            for packet in self.inp.demux(*streams):
                if packet.stream is not vin:
                    audio_done = audio_done or not self._audio(packet, aout, audio_encoder)
                    if video_done and audio_done:
                        break
                    continue
                if video_done or packet.size == 0:
                    continue
                pts = packet.pts if packet.pts is not None else packet.dts
                di = self.decode_index.get(pts)
                if di is None or di < self.first_decode:
                    continue
                if di > self.last_decode:
                    video_done = True
                elif self.copy_range and self.copy_range[0] <= di <= self.copy_range[1]:
                    if decoder is not None:
                        reencoded += decoder.flush()
                        decoder = None
                    packet.stream = self.vout
                    packet.pts = pts - self.base
                    packet.dts = packet.dts - self.base if packet.dts is not None else None
                    out.mux(packet)
                    copied += 1
                else:
                    encoder = head if self.copy_range is None or di < self.copy_range[0] else tail
                    if decoder is None or decoder.encoder is not encoder:
                        if decoder is not None:
                            reencoded += decoder.flush()
                        assert encoder is not None
                        decoder = _Decoder(self, encoder)
                    reencoded += decoder.decode(packet)
                    video_done = di == self.last_decode
                if video_done and decoder is not None:
                    reencoded += decoder.flush()
                    decoder = None
                if progress is not None:
                    progress(min(1.0, (copied + reencoded) / len(self.keep)))
                if video_done and audio_done:
                    break
            if decoder is not None:
                reencoded += decoder.flush()
            if audio_encoder is not None:
                audio_encoder.finish(out)
        frames = reencoded + copied
        if frames != len(self.keep):
            raise ClipError(
                f"expected {len(self.keep)} pictures but wrote {frames}; the source may be damaged"
            )
        pictures = self.index.pictures
        disp_w, disp_h = display_size(vin, self.rotation)
        return ClipResult(
            method="smart-cut" if self.copy_range else "re-encode",
            in_s=self.index.time_of(pictures[self.plan.first]),
            out_s=self.index.time_of(pictures[self.plan.last]),
            duration_s=self.clip_end - self.clip_start,
            first_frame=self.plan.first,
            last_frame=self.plan.last,
            frames=frames,
            reencoded_frames=reencoded,
            copied_frames=copied,
            audio=audio_mode,
            width=disp_w,
            height=disp_h,
            size=os.path.getsize(self.dst),
        )

    def _video_stream(self, out):  # type: ignore[no-untyped-def]
        vin = self.vin
        head = tail = None
        if self.copy_range is not None and self.avcc is not None:
            plan = self.plan
            needs_head = plan.copy_from is not None and plan.copy_from > plan.first
            needs_tail = not plan.tail_copied
            head = _Encoder(vin, sps_id=1, like=self.avcc) if needs_head else None
            tail = _Encoder(vin, sps_id=2, like=self.avcc) if needs_tail else None
            # Re-encoded pictures are not reordered, but must decode before the camera's
            # IDR that follows the head, and start the tail where the camera's IDR did.
            pictures = self.index.pictures
            if head is not None and plan.copy_from is not None:
                head.delay = _lead(pictures[plan.copy_from])
            if tail is not None and plan.copy_until is not None:
                tail.delay = _lead(pictures[plan.copy_until + 1])
            merged = _AvcC(
                self.avcc.profile,
                self.avcc.compatibility,
                self.avcc.level,
                self.avcc.length_size,
                list(self.avcc.sps),
                list(self.avcc.pps),
                self.avcc.trailer,
            )
            for encoder in (head, tail):
                if encoder is not None:
                    merged.sps += encoder.sps
                    merged.pps += encoder.pps
            self.vout = out.add_stream_from_template(vin)
            self.vout.codec_context.extradata = merged.build()
            self.length_size = self.avcc.length_size
        else:  # nothing to copy: re-encode the whole range as a plain H.264 stream
            self.vout = out.add_stream(h264_encoder(), rate=vin.average_rate or Fraction(25))
            head = _Encoder(vin, sps_id=0, like=self.avcc, stream=self.vout)
        self.vout.time_base = vin.time_base
        if self.rotation:
            try:
                self.vout.set_display_rotation(-self.rotation)  # PyAV takes counter-clockwise
            except (AttributeError, ValueError, av.FFmpegError):
                pass
        return head, tail

    def encode(self, frame: av.VideoFrame, encoder: _Encoder) -> int:
        if frame.pts is None or frame.pts not in self.keep:
            return 0
        frame.pts = frame.pts - self.base
        frame.pict_type = 0
        for packet in encoder.encode(frame):
            self.mux_encoded(packet, encoder.delay, encoder.convert)
        return 1

    def mux_encoded(self, packet: av.Packet, delay: int, convert: bool = True) -> None:
        if not convert:  # the clip's own encoder: the muxer takes its packets as they are
            packet.stream = self.vout
            self.out.mux(packet)
            return
        data = _to_avcc(bytes(packet), self.length_size)
        if not data:
            return
        fresh = av.Packet(data)
        fresh.pts = packet.pts
        fresh.dts = packet.pts - delay if packet.pts is not None else None
        fresh.time_base = self.vin.time_base
        fresh.is_keyframe = packet.is_keyframe
        fresh.stream = self.vout
        self.out.mux(fresh)

    # audio

    def _audio_stream(self, out):  # type: ignore[no-untyped-def]
        ain = self.ain
        if ain is None:
            return None, "none", None
        if ain.codec_context.name in COPYABLE_AUDIO:
            aout = out.add_stream_from_template(ain)
            aout.time_base = ain.time_base
            return aout, "copy", None
        encoder = _AudioEncoder(out, ain)
        return encoder.stream, "re-encode", encoder

    def _audio(self, packet: av.Packet, aout, encoder) -> bool:  # type: ignore[no-untyped-def]
        """Copy (or re-encode) one audio packet if it overlaps the clip; False once past."""
        if packet.pts is None or packet.size == 0:
            return True
        tb = packet.time_base
        start = float(packet.pts * tb) - self.index.zero
        if start >= self.clip_end:
            return False
        if start + float((packet.duration or 0) * tb) <= self.clip_start:
            return True
        if encoder is not None:
            encoder.push(packet, self.clip_start, self.index.zero)
            return True
        shift = round(float(self.base * self.vin.time_base) / tb)
        packet.stream = aout
        packet.pts -= shift
        if packet.dts is not None:
            packet.dts -= shift
        self.out.mux(packet)
        return True


def _lead(picture: _Picture) -> int:
    return max(0, picture.pts - picture.dts) if picture.dts is not None else 0


class _Decoder:
    """Decodes one run of re-encoded pictures (the head or the tail) into its encoder."""

    def __init__(self, cutter: _Cutter, encoder: _Encoder) -> None:
        self.cutter, self.encoder = cutter, encoder
        vin = cutter.vin
        self.ctx = av.CodecContext.create(vin.codec_context.name, "r")
        self.ctx.extradata = vin.codec_context.extradata

    def decode(self, packet: av.Packet) -> int:
        try:
            frames = self.ctx.decode(packet)
        except av.FFmpegError:
            return 0  # a damaged packet: the count check reports the missing picture
        return sum(self.cutter.encode(frame, self.encoder) for frame in frames)

    def flush(self) -> int:
        """The decoder's last pictures, then the encoder's: a run ends before the next
        part of the clip is written, so decode times stay in order."""
        try:
            frames = self.ctx.decode(None)
        except av.FFmpegError:
            frames = []
        count = sum(self.cutter.encode(frame, self.encoder) for frame in frames)
        for packet in self.encoder.finish():
            self.cutter.mux_encoded(packet, self.encoder.delay, self.encoder.convert)
        return count


class _Encoder:
    """H.264 for the re-encoded pictures, matching the source's size, profile and level.

    For a smart cut it is a standalone encoder whose parameter sets (with their own
    ids) go into the clip's avcC, and whose packets are rewritten as length-prefixed
    NAL units; for a whole re-encode it is the clip's own stream.
    """

    def __init__(
        self,
        vin: av.video.stream.VideoStream,
        sps_id: int,
        like: _AvcC | None,
        stream: av.video.stream.VideoStream | None = None,
    ) -> None:
        name = h264_encoder()
        ctx = av.CodecContext.create(name, "w") if stream is None else stream.codec_context
        ctx.width, ctx.height = vin.codec_context.width, vin.codec_context.height
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = vin.time_base or Fraction(1, 90_000)
        ctx.framerate = vin.average_rate or vin.guessed_rate or Fraction(25)
        if name == "libx264":
            options = {"preset": "medium", "crf": REENCODE_CRF, "bf": "0"}
            if stream is None:
                options["x264-params"] = f"sps-id={sps_id}"
                if like is not None and like.sps and len(like.sps[0]) > 3:
                    options["profile"] = _X264_PROFILES.get(like.sps[0][1], "high")
                    options["level"] = f"{like.sps[0][3] / 10:.1f}"
            ctx.options = options
        else:
            ctx.bit_rate = 8_000_000
        self.ctx = ctx
        self.convert = stream is None
        self.sps: list[bytes] = []
        self.pps: list[bytes] = []
        if stream is None:
            ctx.flags |= int(av.codec.context.Flags.global_header)
            ctx.open()
            units = _nal_units_annexb(bytes(ctx.extradata or b""))
            self.sps = [u for u in units if u and u[0] & 0x1F == 7]
            self.pps = [u for u in units if u and u[0] & 0x1F == 8]
            if not self.sps or not self.pps:
                raise ClipError("the H.264 encoder gave no parameter sets")
        self.sent = False
        self.delay = 0  # decode-time lead, in the source's time base

    def encode(self, frame: av.VideoFrame) -> list[av.Packet]:
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        self.sent = True
        return list(self.ctx.encode(frame))

    def finish(self) -> list[av.Packet]:
        if not self.sent:
            return []
        self.sent = False
        return list(self.ctx.encode(None))


class _AudioEncoder:
    """AAC for sources whose audio cannot be copied into MP4 (PCM, Opus, ...)."""

    def __init__(self, out, ain) -> None:  # type: ignore[no-untyped-def]
        rate = ain.codec_context.sample_rate or 48_000
        self.rate = 44_100 if rate == 44_100 else 48_000
        layout = "mono" if ain.codec_context.channels == 1 else "stereo"
        self.stream = out.add_stream("aac", rate=self.rate, layout=layout)
        self.stream.bit_rate = 128_000
        self.resampler = av.AudioResampler(format="fltp", layout=layout, rate=self.rate)
        self.decoder = av.CodecContext.create(ain.codec_context.name, "r")
        self.decoder.extradata = ain.codec_context.extradata
        self.decoder.sample_rate = ain.codec_context.sample_rate
        self.next_pts: int | None = None

    def push(self, packet, clip_start, zero) -> None:  # type: ignore[no-untyped-def]
        try:
            frames = self.decoder.decode(packet)
        except av.FFmpegError:
            return
        for frame in frames:
            if self.next_pts is None:
                start = float(frame.time or 0) - zero
                self.next_pts = round((start - clip_start) * self.rate)
            for chunk in self.resampler.resample(frame):
                chunk.pts = self.next_pts
                chunk.time_base = Fraction(1, self.rate)
                self.next_pts += chunk.samples
                self.stream.container.mux(self.stream.encode(chunk))

    def finish(self, out) -> None:  # type: ignore[no-untyped-def]
        out.mux(self.stream.encode(None))


# --- stills -------------------------------------------------------------------------------


def make_still(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], at_s: float
) -> StillResult:
    """The picture shown at `at_s` (seconds on the source's timeline), upright, at full
    resolution, as PNG."""
    info = probe(src)
    if not info.playable:
        raise ClipError(f"unplayable source: {info.problem}")
    with av.open(os.fspath(src)) as inp:
        index = _index(inp, None)
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
