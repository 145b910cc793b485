"""Segment manifests (CAMERA_PROTOCOL.md "Segment manifest"): built, serialised once,
signed, written beside the segment, and chained to the device's previous manifest.

The bytes written are the bytes signed and hashed; nothing ever re-serialises them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import keys
from .home import Home, write_atomic

FORMAT = "overt-capture-manifest/1"
TRIGGER_KINDS = ("manual", "gpio", "sensor", "peer", "timer")


def rfc3339(moment: float) -> str:
    """A Unix time as RFC 3339 UTC with microseconds and a Z."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Trigger:
    at: float
    kind: str  # manual | gpio | sensor | peer | timer
    action: str  # start | stop
    reason: str = ""
    source: str | None = None  # the sensor (holster, taser, lightbar) or plugin
    peer_serial: str | None = None

    def as_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "at": rfc3339(self.at),
            "kind": self.kind,
            "action": self.action,
            "reason": self.reason,
        }
        if self.source is not None:
            record["source"] = self.source
        if self.peer_serial is not None:
            record["peer_serial"] = self.peer_serial
        return record


@dataclass
class Fix:
    at: float
    lat: float
    lon: float
    accuracy_m: float | None = None

    def as_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"at": rfc3339(self.at), "lat": self.lat, "lon": self.lon}
        if self.accuracy_m is not None:
            record["accuracy_m"] = self.accuracy_m
        return record


@dataclass
class SegmentFacts:
    """What the recorder knows of a closed segment; the chain fields come from the home."""

    path: Path
    device_serial: str
    key_id: str
    recording_id: str
    segment: int
    device_sequence: int
    started_at: float
    ended_at: float
    pre_event_seconds: float
    final: bool
    interrupted: bool
    clock_offset_s: float | None
    agent_version: str
    audio_in_buffer: bool
    triggers: list[Trigger] = field(default_factory=list)
    gps: list[Fix] = field(default_factory=list)
    encryption: dict[str, object] | None = None  # sealed at rest (sealed.py): how


def manifest_path(segment: Path) -> Path:
    return segment.with_suffix(".manifest.json")


def signature_path(segment: Path) -> Path:
    return segment.with_suffix(".manifest.sig")


def build(facts: SegmentFacts, sha256: str, size: int, previous: str | None) -> bytes:
    record = {
        "format": FORMAT,
        "device_serial": facts.device_serial,
        "key_id": facts.key_id,
        "recording_id": facts.recording_id,
        "segment": facts.segment,
        "device_sequence": facts.device_sequence,
        "started_at": rfc3339(facts.started_at),
        "ended_at": rfc3339(max(facts.ended_at, facts.started_at)),
        "pre_event_seconds": round(facts.pre_event_seconds, 3),
        "sha256": sha256,
        "size": size,
        "previous_manifest_sha256": previous,
        "final": facts.final,
        "interrupted": facts.interrupted,
        "triggers": [t.as_json() for t in facts.triggers],
        "gps": [g.as_json() for g in facts.gps],
        "clock_offset_s": facts.clock_offset_s,
        "agent_version": facts.agent_version,
        "audio_in_buffer": facts.audio_in_buffer,
    }
    if facts.encryption is not None:
        # sha256 and size are the plaintext's (what the server stores as the original);
        # the sealed file's own hash and size are bound here too.
        record["encryption"] = facts.encryption
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def write(
    home: Home,
    key: Ed25519PrivateKey,
    facts: SegmentFacts,
    digest: tuple[str, int] | None = None,
) -> str:
    """Write the closed segment's manifest and signature, advance the chain.

    `digest` is the segment's SHA-256 and size where the recorder hashed it as it wrote;
    otherwise the file is read. Returns the manifest's SHA-256. The manifest is written
    (and fsynced) before the chain's head moves, so a crash between the two is repaired
    by `repair_chain`.
    """
    size = facts.path.stat().st_size
    if facts.encryption is not None:
        assert digest is not None, "a sealed segment's plaintext hash comes from its writer"
        sha256, size = digest
    elif digest is None or digest[1] != size:
        sha256 = sha256_file(facts.path)
    else:
        sha256 = digest[0]
    with home.locked():
        previous = home.chain().last_manifest_sha256
        data = build(facts, sha256, size, previous)
        write_atomic(manifest_path(facts.path), data)
        write_atomic(signature_path(facts.path), keys.sign(key, data))
        manifest_sha256 = hashlib.sha256(data).hexdigest()
        home.advance_chain(manifest_sha256, previous)
    return manifest_sha256


def read(segment: Path) -> tuple[bytes, bytes]:
    return manifest_path(segment).read_bytes(), signature_path(segment).read_bytes()


def repair_chain(home: Home) -> None:
    """After a crash between writing a manifest and moving the chain's head: move it."""
    with home.locked():
        head = home.chain().last_manifest_sha256
        for path in sorted(home.spool.glob("*.manifest.json")):
            data = path.read_bytes()
            try:
                previous = json.loads(data)["previous_manifest_sha256"]
            except (ValueError, KeyError):
                continue
            digest = hashlib.sha256(data).hexdigest()
            if previous == head and digest != head:
                home.advance_chain(digest, head)
                head = digest
