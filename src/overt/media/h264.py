"""H.264 bitstream pieces for cutting without re-encoding: NAL units in both framings,
the MP4 avcC record, and an encoder whose pictures can sit in a camera's own track.

Pure: no Django. Used by the clip cutter (overt.media.cutting).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

import av
from av.video.codeccontext import VideoCodecContext

from .derivatives import MediaError, h264_encoder

REENCODE_CRF = "16"  # visually lossless for the few pictures re-encoded at a cut


def nal_units_avcc(data: bytes, length_size: int) -> Iterator[bytes]:
    i = 0
    while i + length_size <= len(data):
        size = int.from_bytes(data[i : i + length_size], "big")
        i += length_size
        yield data[i : i + size]
        i += size


def nal_units_annexb(data: bytes) -> list[bytes]:
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


def has_idr(data: bytes, length_size: int) -> bool:
    return any(unit and unit[0] & 0x1F == 5 for unit in nal_units_avcc(data, length_size))


@dataclass(slots=True)
class AvcC:
    profile: int
    compatibility: int
    level: int
    length_size: int
    sps: list[bytes]
    pps: list[bytes]
    trailer: bytes  # the High-profile fields (chroma format, bit depths, SPS extensions)

    @classmethod
    def parse(cls, data: bytes) -> AvcC | None:
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


def to_avcc(data: bytes, length_size: int) -> bytes:
    """An encoder's packet as length-prefixed NAL units, without parameter sets."""
    if not _is_annexb(data):
        return data
    out = bytearray()
    for unit in nal_units_annexb(data):
        if not unit or unit[0] & 0x1F in (7, 8, 9):  # SPS, PPS, access unit delimiter
            continue
        out += len(unit).to_bytes(length_size, "big") + unit
    return bytes(out)


class H264Encoder:
    """H.264 for the re-encoded pictures, matching the source's size, profile and level.

    For a smart cut it is a standalone encoder whose parameter sets (with their own
    ids) go into the clip's avcC, and whose packets are rewritten as length-prefixed
    NAL units; for a whole re-encode it is the clip's own stream.
    """

    def __init__(
        self,
        vin: av.video.stream.VideoStream,
        sps_id: int,
        like: AvcC | None,
        stream: av.video.stream.VideoStream | None = None,
    ) -> None:
        name = h264_encoder()
        ctx = (
            cast(VideoCodecContext, av.CodecContext.create(name, "w"))  # H.264: a video codec
            if stream is None
            else stream.codec_context
        )
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
            units = nal_units_annexb(bytes(ctx.extradata or b""))
            self.sps = [u for u in units if u and u[0] & 0x1F == 7]
            self.pps = [u for u in units if u and u[0] & 0x1F == 8]
            if not self.sps or not self.pps:
                raise MediaError("the H.264 encoder gave no parameter sets")
        self.sent = False
        self.delay = 0  # decode-time lead, in the source's time base

    def encode(self, frame: av.VideoFrame) -> list[av.Packet[Any]]:
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        self.sent = True
        return list(self.ctx.encode(frame))

    def finish(self) -> list[av.Packet[Any]]:
        if not self.sent:
            return []
        self.sent = False
        return list(self.ctx.encode(None))
