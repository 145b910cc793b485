"""The pre-event buffer: encoded packets held in a ring bounded in bytes and in time.

Packets are grouped by GOP (a video keyframe and what follows it), so the ring always
starts at a keyframe and a recording can begin with no re-encode. It keeps the GOP at or
before `now - seconds` and everything after; the byte cap drops whole GOPs, oldest first,
and the recording then states the shorter pre-event length it really has.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from .packets import AUDIO, VIDEO, Packet


@dataclass
class Gop:
    start_wall: float
    packets: list[Packet] = field(default_factory=list)
    size: int = 0


class Ring:
    def __init__(self, seconds: float, max_bytes: int, keep_audio: bool) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.keep_audio = keep_audio
        self._gops: deque[Gop] = deque()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        return self._bytes

    def held_seconds(self) -> float:
        with self._lock:
            if not self._gops or not self._gops[-1].packets:
                return 0.0
            return self._gops[-1].packets[-1].wall - self._gops[0].start_wall

    def push(self, packet: Packet) -> None:
        if packet.stream == AUDIO and not self.keep_audio:
            return
        with self._lock:
            if packet.stream == VIDEO and packet.keyframe:
                self._gops.append(Gop(packet.wall))
            elif not self._gops:
                return  # nothing is playable before the first keyframe
            gop = self._gops[-1]
            gop.packets.append(packet)
            gop.size += len(packet.data)
            self._bytes += len(packet.data)
            self._trim(packet.wall)

    def _trim(self, newest: float) -> None:
        gops = self._gops
        while len(gops) >= 2 and gops[1].start_wall <= newest - self.seconds:
            self._bytes -= gops.popleft().size
        while len(gops) >= 2 and self._bytes > self.max_bytes:
            self._bytes -= gops.popleft().size

    def take(self, now: float, seconds: float) -> list[Packet]:
        """The packets a recording triggered at `now` begins with: from the keyframe
        nearest to `now - seconds` (never one in the future)."""
        with self._lock:
            if not self._gops:
                return []
            target = now - seconds
            chosen = min(
                (g for g in self._gops if g.start_wall <= now),
                key=lambda g: abs(g.start_wall - target),
                default=self._gops[0],
            )
            packets: list[Packet] = []
            found = False
            for gop in self._gops:
                found = found or gop is chosen
                if found:
                    packets.extend(gop.packets)
            return packets

    def clear(self) -> None:
        with self._lock:
            self._gops.clear()
            self._bytes = 0
