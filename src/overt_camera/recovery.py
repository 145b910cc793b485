"""Recovery on start: a segment a killed run left without a manifest is cut back to its
last complete fragment, closed, and given a signed manifest with interrupted=true and
final=true. Nothing else is removed: a file with no complete header is kept whole. A
sealed segment is cut back to its last fsynced record, as its journal says (the device
holds no key to read it)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import __version__, fmp4, manifest, sealed
from .home import Home, fsync_dir
from .manifest import SegmentFacts, Trigger, parse_rfc3339
from .recorder import journal_path

log = logging.getLogger(__name__)


def orphans(home: Home) -> list[Path]:
    return [
        path
        for path in sorted(home.spool.glob("*.mp4"))
        if not manifest.manifest_path(path).exists()
    ]


def recover(home: Home, key: Ed25519PrivateKey, serial: str, key_id: str) -> list[Path]:
    """Close and sign every orphaned segment; the segments recovered."""
    manifest.repair_chain(home)
    done: list[Path] = []
    for path in orphans(home):
        recover_segment(home, key, serial, key_id, path)
        done.append(path)
    return done


def _cut(path: Path, size: int, keep: int) -> None:
    with path.open("r+b") as handle:
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(path.parent)
    log.warning(
        "%s: cut from %d to %d bytes (the fragment being written when the agent stopped)",
        path.name,
        size,
        keep,
    )


def recover_segment(
    home: Home, key: Ed25519PrivateKey, serial: str, key_id: str, path: Path
) -> str:
    size = path.stat().st_size
    header, triggers, progress = _journal(path)
    digest: tuple[str, int] | None = None
    encryption: dict[str, object] | None = None
    if size and sealed.is_sealed(path) and header is not None:
        # Sealed: the device cannot read it (no key). The journal says how far the
        # records were fsynced and what their plaintext hashes to.
        keep = int(progress.get("sealed_size", sealed.HEADER_BYTES))
        if keep < size:
            _cut(path, size, keep)
        digest = (str(progress.get("plain_sha256", hashlib.sha256().hexdigest())),
                  int(progress.get("plain_size", 0)))  # fmt: skip
        encryption = sealed.describe_file(path)
        last = float(progress.get("synced_at", header["started_at"]))
        media_seconds = max(0.0, last - float(header["started_at"]))
    else:
        scan = fmp4.scan(path)
        if scan.has_header and scan.complete_bytes < size:
            _cut(path, size, scan.complete_bytes)
        media_seconds = scan.media_seconds
    if header is None:  # no journal: the segment is kept and chained all the same
        header = {
            "recording_id": uuid.uuid4().hex,
            "segment": 0,
            "device_sequence": home.next_sequence(),
            "started_at": path.stat().st_mtime - media_seconds,
            "pre_event_seconds": 0.0,
            "audio_in_buffer": False,
        }
    started = float(header["started_at"])
    facts = SegmentFacts(
        path=path,
        device_serial=serial,
        key_id=key_id,
        recording_id=str(header["recording_id"]),
        segment=int(header["segment"]),
        device_sequence=int(header["device_sequence"]),
        started_at=started,
        ended_at=started + media_seconds,
        pre_event_seconds=float(header.get("pre_event_seconds") or 0.0),
        final=True,
        interrupted=True,
        clock_offset_s=None,
        agent_version=__version__,
        audio_in_buffer=bool(header.get("audio_in_buffer")),
        triggers=triggers,
        encryption=encryption,
    )
    manifest_sha256 = manifest.write(home, key, facts, digest)
    journal_path(path).unlink(missing_ok=True)
    return manifest_sha256


def _journal(path: Path) -> tuple[dict[str, Any] | None, list[Trigger], dict[str, Any]]:
    """The segment's header, its triggers, and the last fsynced record's progress."""
    journal = journal_path(path)
    if not journal.exists():
        return None, [], {}
    header: dict[str, Any] | None = None
    triggers: list[Trigger] = []
    progress: dict[str, Any] = {}
    for line in journal.read_text("utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the line being written when power went
        if header is None:
            header = record
            triggers = [_trigger(t) for t in record.get("triggers", [])]
        elif "pre_event_seconds" in record:
            header["pre_event_seconds"] = record["pre_event_seconds"]
        elif "trigger" in record:
            triggers.append(_trigger(record["trigger"]))
        elif "synced_at" in record:
            progress = record
    return header, triggers, progress


def _trigger(record: dict[str, Any]) -> Trigger:
    return Trigger(
        at=parse_rfc3339(record["at"]),
        kind=record["kind"],
        action=record["action"],
        reason=record.get("reason", ""),
        source=record.get("source"),
        peer_serial=record.get("peer_serial"),
    )
