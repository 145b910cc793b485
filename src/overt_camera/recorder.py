"""Recording: packets into fragmented MP4 segments, each fragment fsynced as it closes, a
signed manifest written when a segment closes.

Fragments: movflags frag_keyframe+empty_moov+default_base_moof; encoded sources make a
keyframe at least every second, copied sources also cut by frag_duration (1 s). With
flush_packets the muxer hands a fragment to the file as soon as it closes; the file is then
fsynced, so a power cut loses at most the fragment being filled.

Beside each open segment a journal (`.journal.jsonl`) holds what its manifest needs
(recording, sequence, start, triggers, fixes), so a segment from a killed run can be
closed and signed on the next start (recovery.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import __version__, manifest
from .home import Home, fsync_dir
from .manifest import Fix, SegmentFacts, Trigger
from .packets import AUDIO, VIDEO, Packet
from .sealed import Sealer, ServerKey

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"


def journal_path(segment: Path) -> Path:
    return segment.with_suffix(".journal.jsonl")


def segment_path(home: Home, serial: str, sequence: int, segment: int) -> Path:
    return home.spool / f"{serial}-{sequence:06d}-{segment:04d}.mp4"


class _Sink:
    """Where the muxer writes a sealed segment: bytes wait here until the fragment closes."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)

    def flush(self) -> None:
        pass

    def seekable(self) -> bool:
        return False  # fragmented MP4 needs no seeking; nothing is rewritten

    def take(self) -> bytes:
        data = bytes(self.data)
        self.data.clear()
        return data


class SegmentWriter:
    """One fragmented MP4 file, opened at a video keyframe; sealed when `sealer` is given
    (sealed.py: each fragment's bytes become one AES-256-GCM record, written and fsynced)."""

    def __init__(
        self,
        path: Path,
        video: Any,
        audio: Any,
        copied: bool,
        first: Packet,
        sealer: Sealer | None = None,
    ) -> None:
        self.path = path
        self.sealer = sealer
        self._sink: _Sink | None = None
        self._fd: int | None = None
        self._sealed = hashlib.sha256()
        self._sealed_size = 0
        target: Any = str(path)
        if sealer is not None:
            self._sink = target = _Sink()
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            self._append(sealer.header)
            fsync_dir(path.parent)
        # max_interleave_delta: the muxer otherwise holds video back (up to 10 s) until the
        # audio stream has a packet too, and the pre-event video (no audio unless
        # audio_in_buffer) would sit in memory, not on disk, until sound arrived.
        options = {"movflags": MOVFLAGS, "flush_packets": "1", "max_interleave_delta": "100000"}
        if copied:
            options["frag_duration"] = "1000000"  # microseconds: a fragment at least each second
        self._container = av.open(target, "w", format="mp4", options=options)
        self._streams = {VIDEO: self._container.add_stream_from_template(video)}
        if audio is not None:
            self._streams[AUDIO] = self._container.add_stream_from_template(audio)
        self.origin = Fraction(first.dts) * first.time_base  # media seconds at file time 0
        self.started_at = first.wall
        self.media_end = 0.0  # media seconds covered so far, from the origin
        self._last_dts: dict[int, int] = {}
        self._synced = 0
        self._hasher = hashlib.sha256()
        self._hashed = 0

    def write(self, packet: Packet) -> bool:
        """Mux one packet; True when a fragment reached the disk (and was fsynced)."""
        stream = self._streams.get(packet.stream)
        if stream is None:
            return False
        shift = round(self.origin / packet.time_base)
        dts, pts = packet.dts - shift, packet.pts - shift
        if dts < 0 or pts < 0 or dts <= self._last_dts.get(packet.stream, -1):
            return False  # before this segment's first keyframe, or out of order
        self._last_dts[packet.stream] = dts
        out = av.Packet(packet.data)
        out.pts, out.dts, out.duration = pts, dts, packet.duration
        out.time_base = packet.time_base
        out.is_keyframe = packet.keyframe
        out.stream = stream
        self._container.mux(out)
        self.media_end = max(self.media_end, packet.end_seconds - float(self.origin))
        return self._sync()

    def _append(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)
        self._sealed.update(data)
        self._sealed_size += len(data)

    def _seal(self) -> bool:
        assert self._sink is not None and self.sealer is not None
        data = self._sink.take()
        if not data:
            return False
        self._hasher.update(data)  # the plaintext's hash: what the server will store
        self._hashed += len(data)
        self._append(self.sealer.seal(data))
        return True

    def progress(self) -> dict[str, Any]:
        """For the journal: what recovery needs to sign a sealed segment it cannot read."""
        if self.sealer is None:
            return {}
        return {
            "plain_sha256": self._hasher.copy().hexdigest(),
            "plain_size": self._hashed,
            "sealed_size": self._sealed_size,
        }

    @property
    def encryption(self) -> dict[str, object] | None:
        """The manifest's `encryption` member (None for a plain segment)."""
        if self.sealer is None:
            return None
        return self.sealer.describe(self._sealed.hexdigest(), self._sealed_size)

    def _sync(self) -> bool:
        if self._sink is not None:
            return self._seal()
        size = self.path.stat().st_size if self.path.exists() else 0
        if size == self._synced:
            return False
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
            fsync_dir(self.path.parent)
        os.fsync(self._fd)  # fsync flushes the file's data whichever descriptor asks
        self._synced = size
        # Hash what just reached the disk (from the page cache), so closing a 30-minute
        # segment does not stall capture to read it all again. The muxer only appends
        # (fragmented, empty moov): bytes once written do not change.
        while self._hashed < size:
            block = os.pread(self._fd, min(1 << 20, size - self._hashed), self._hashed)
            if not block:
                break
            self._hasher.update(block)
            self._hashed += len(block)
        return True

    @property
    def digest(self) -> tuple[str, int]:
        """SHA-256 and size of the closed file (of its plaintext, when sealed)."""
        return self._hasher.hexdigest(), self._hashed

    def close(self) -> None:
        try:
            self._container.close()  # the last fragment
        finally:
            self._sync()
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


@dataclass
class Context:
    """What a recording needs from the agent; no globals, so the simulator can make one."""

    home: Home
    key: Ed25519PrivateKey
    serial: str
    key_id: str
    video_template: Any
    audio_template: Any
    copied: bool
    segment_seconds: float
    audio_in_buffer: bool
    server_key: ServerKey | None = None  # seal segments to it (encrypt_at_rest)
    clock_offset: Callable[[], float | None] = lambda: None
    fixes: Callable[[float, float], list[Fix]] = lambda start, end: []


@dataclass
class Recording:
    """One activation: a sequence of segments under one recording_id and device_sequence."""

    context: Context
    recording_id: str
    device_sequence: int
    pre_event_seconds: float
    triggers: list[Trigger] = field(default_factory=list)
    segment: int = -1
    writer: SegmentWriter | None = None
    manifests: list[str] = field(default_factory=list)
    started_at: float = 0.0  # when the trigger came (the timer counts from here)

    def begin(self, packets: Iterable[Packet], trigger: Trigger) -> None:
        """Open segment 0 at the first packet and write the pre-event packets (read one at
        a time from the ring, so a long buffer is never all in memory)."""
        self.triggers.append(trigger)
        self.started_at = trigger.at
        stream = iter(packets)
        first = next(stream, None)
        if first is not None:
            self.write(first)
            self.pre_event_seconds = max(0.0, trigger.at - first.wall)
            self._journal({"pre_event_seconds": self.pre_event_seconds})
            for packet in stream:
                self.write(packet)

    def add_trigger(self, trigger: Trigger) -> None:
        self.triggers.append(trigger)
        if self.writer is not None:
            self._journal({"trigger": trigger.as_json()})

    def write(self, packet: Packet) -> None:
        writer = self.writer
        if writer is None:
            if packet.stream != VIDEO or not packet.keyframe:
                return
            writer = self._open(packet)
        elif (
            packet.stream == VIDEO
            and packet.keyframe
            and packet.wall - writer.started_at >= self.context.segment_seconds
        ):
            self.close_segment(final=False, interrupted=False)
            writer = self._open(packet)
        if writer.write(packet):
            self._journal({"synced_at": packet.wall, **writer.progress()})

    def _open(self, first: Packet) -> SegmentWriter:
        self.segment += 1
        ctx = self.context
        path = segment_path(ctx.home, ctx.serial, self.device_sequence, self.segment)
        header = {
            "recording_id": self.recording_id,
            "segment": self.segment,
            "device_sequence": self.device_sequence,
            "started_at": first.wall,
            "pre_event_seconds": self.pre_event_seconds if self.segment == 0 else 0.0,
            "audio_in_buffer": ctx.audio_in_buffer,
            "triggers": [t.as_json() for t in self.triggers],
        }
        journal = journal_path(path)
        journal.write_text(json.dumps(header, sort_keys=True) + "\n", "utf-8")
        sealer = Sealer(ctx.server_key) if ctx.server_key is not None else None
        self.writer = SegmentWriter(
            path, ctx.video_template, ctx.audio_template, ctx.copied, first, sealer
        )
        return self.writer

    def _journal(self, record: dict[str, Any]) -> None:
        if self.writer is None:
            return
        with journal_path(self.writer.path).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def close_segment(self, final: bool, interrupted: bool) -> str | None:
        """Close the open segment and write its signed manifest; its manifest's hash."""
        writer = self.writer
        if writer is None:
            return None
        self.writer = None
        writer.close()
        ctx = self.context
        ended = writer.started_at + writer.media_end
        facts = SegmentFacts(
            path=writer.path,
            device_serial=ctx.serial,
            key_id=ctx.key_id,
            recording_id=self.recording_id,
            segment=self.segment,
            device_sequence=self.device_sequence,
            started_at=writer.started_at,
            ended_at=ended,
            pre_event_seconds=self.pre_event_seconds if self.segment == 0 else 0.0,
            final=final,
            interrupted=interrupted,
            clock_offset_s=ctx.clock_offset(),
            agent_version=__version__,
            audio_in_buffer=ctx.audio_in_buffer,
            triggers=list(self.triggers),
            gps=ctx.fixes(writer.started_at, ended),
            encryption=writer.encryption,
        )
        digest = manifest.write(ctx.home, ctx.key, facts, writer.digest)
        journal_path(writer.path).unlink(missing_ok=True)
        self.triggers = []
        self.manifests.append(digest)
        return digest

    def finish(self, trigger: Trigger | None, interrupted: bool = False) -> None:
        if trigger is not None:
            self.triggers.append(trigger)
        self.close_segment(final=True, interrupted=interrupted)
