"""The pre-event buffer: encoded packets held in a ring bounded in bytes and in time.

Packets are grouped by GOP (a video keyframe and what follows it), so the ring always
starts at a keyframe and a recording can begin with no re-encode. It keeps the GOP at or
before `now - seconds` and everything after; the byte cap drops whole GOPs, oldest first,
and the recording then states the shorter pre-event length it really has.

The packets' bytes are not held in memory: they go into a ring file of `max_bytes` on the
spool (an unnamed temporary file, so nothing of it has a name on disk and the kernel frees
it when the process ends, even after `kill -9`). Memory holds only an index (timing and
offset, about 150 bytes a packet), so the agent's RSS does not grow with the bitrate or
the buffer's length. The ring file is never fsynced: it is scratch, not evidence. Footage
becomes evidence when a trigger copies it into a segment, and segments are fsynced
fragment by fragment (recorder.py). With `encrypt_at_rest` each packet is sealed with
AES-256-GCM under a key made at start and held only in memory, so the pre-event footage on
the flash is unreadable once the process is gone.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .config import AgentConfig
from .packets import AUDIO, VIDEO, Packet

TAG = 16  # AES-GCM tag bytes added to each sealed packet


@dataclass(slots=True)
class Entry:
    """Where one packet's bytes lie in the ring file, and its timing."""

    stream: int
    offset: int  # logical: bytes ever written before it (the file offset is this % size)
    size: int  # bytes in the file (with the tag when sealed)
    pts: int
    dts: int
    duration: int
    time_base: Fraction
    keyframe: bool
    wall: float


@dataclass
class Gop:
    start_wall: float
    entries: list[Entry] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.entries[0].offset

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)


class Ring:
    def __init__(
        self,
        seconds: float,
        max_bytes: int,
        keep_audio: bool,
        folder: Path | None = None,
        sealed: bool = False,
    ) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.keep_audio = keep_audio
        self._gops: deque[Gop] = deque()
        self._end = 0  # logical offset of the next write
        self._lock = threading.Lock()
        self._file: BinaryIO = tempfile.TemporaryFile(dir=folder)  # closed in close()
        self._aead = AESGCM(AESGCM.generate_key(256)) if sealed else None

    @classmethod
    def of(cls, config: AgentConfig, folder: Path) -> Ring:
        """The ring an agent's settings ask for, its file in `folder` (the spool)."""
        return cls(
            config.buffer_seconds,
            config.ring_max_bytes,
            config.audio_in_buffer,
            folder,
            config.encrypt_at_rest,
        )

    @property
    def bytes(self) -> int:
        """Bytes of footage the ring spans on disk (its file holds at most max_bytes)."""
        with self._lock:
            return self._end - self._gops[0].start if self._gops else 0

    def held_seconds(self) -> float:
        with self._lock:
            if not self._gops or not self._gops[-1].entries:
                return 0.0
            return self._gops[-1].entries[-1].wall - self._gops[0].start_wall

    def push(self, packet: Packet) -> None:
        if packet.stream == AUDIO and not self.keep_audio:
            return
        with self._lock:
            if packet.stream == VIDEO and packet.keyframe:
                self._gops.append(Gop(packet.wall))
            elif not self._gops:
                return  # nothing is playable before the first keyframe
            data = packet.data
            size = len(data) + (TAG if self._aead else 0)
            if size > self.max_bytes:  # a packet larger than the ring: its GOP is lost
                self._gops.clear()
                return
            offset = self._end
            if offset % self.max_bytes + size > self.max_bytes:  # no room before the end
                offset += self.max_bytes - offset % self.max_bytes
            self._evict(offset + size, packet.wall)
            if not self._gops:  # the GOP this packet belongs to was evicted
                return
            if self._aead is not None:
                data = self._aead.encrypt(offset.to_bytes(12, "big"), data, None)
            os.pwrite(self._file.fileno(), data, offset % self.max_bytes)
            self._end = offset + size
            self._gops[-1].entries.append(
                Entry(
                    packet.stream,
                    offset,
                    size,
                    packet.pts,
                    packet.dts,
                    packet.duration,
                    packet.time_base,
                    packet.keyframe,
                    packet.wall,
                )
            )

    def _evict(self, end: int, newest: float) -> None:
        """Drop GOPs older than the setting needs, then any the next write would overwrite."""
        gops = self._gops
        while len(gops) >= 2 and gops[1].start_wall <= newest - self.seconds:
            gops.popleft()
        while gops and gops[0].entries and end - gops[0].start > self.max_bytes:
            gops.popleft()

    def take(self, now: float, seconds: float) -> Iterator[Packet]:
        """The packets a recording triggered at `now` begins with: from the keyframe
        nearest to `now - seconds` (never one in the future). Read from the ring file one
        at a time; consume them before the next push (the capture thread does both)."""
        with self._lock:
            gops = [g for g in self._gops if g.entries]
            if not gops:
                return iter(())
            target = now - seconds
            chosen = min(
                (g for g in gops if g.start_wall <= now),
                key=lambda g: abs(g.start_wall - target),
                default=gops[0],
            )
            entries = [e for g in gops[gops.index(chosen) :] for e in g.entries]
        return self._read(entries)

    def _read(self, entries: list[Entry]) -> Iterator[Packet]:
        for entry in entries:
            data = os.pread(self._file.fileno(), entry.size, entry.offset % self.max_bytes)
            if self._aead is not None:
                data = self._aead.decrypt(entry.offset.to_bytes(12, "big"), data, None)
            yield Packet(
                entry.stream,
                data,
                entry.pts,
                entry.dts,
                entry.duration,
                entry.time_base,
                entry.keyframe,
                entry.wall,
            )

    def clear(self) -> None:
        with self._lock:
            self._gops.clear()

    def close(self) -> None:
        with self._lock:
            self._gops.clear()
            self._file.close()
