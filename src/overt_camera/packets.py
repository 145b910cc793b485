"""Encoded packets as the agent holds them: bytes with their timing, away from PyAV's
objects, so the pre-event ring counts exact bytes and a packet can be muxed again."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

VIDEO, AUDIO = 0, 1


@dataclass(slots=True)
class Packet:
    stream: int  # VIDEO or AUDIO
    data: bytes
    pts: int
    dts: int
    duration: int
    time_base: Fraction
    keyframe: bool
    wall: float  # device time (Unix seconds) at which this packet's media begins

    @property
    def dts_seconds(self) -> float:
        return float(self.dts * self.time_base)

    @property
    def end_seconds(self) -> float:
        return float((max(self.pts, self.dts) + self.duration) * self.time_base)

    @classmethod
    def from_av(
        cls, stream: int, packet: av.Packet[Any], wall: float, shift: int = 0
    ) -> Packet | None:
        """A demuxed or encoded packet, its timestamps moved by `shift` (a looped file)."""
        if packet.size == 0 or packet.time_base is None:
            return None
        pts = packet.pts if packet.pts is not None else packet.dts
        dts = packet.dts if packet.dts is not None else pts
        if pts is None or dts is None:
            return None
        return cls(
            stream,
            bytes(packet),
            pts + shift,
            dts + shift,
            packet.duration or 0,
            Fraction(packet.time_base),
            bool(packet.is_keyframe),
            wall,
        )
