"""Manifests: the protocol's fields, the exact bytes signed, the chain across recordings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from overt_camera import keys, manifest
from overt_camera.home import Home
from overt_camera.manifest import Fix, SegmentFacts, Trigger

PROTOCOL_FIELDS = {
    "format", "device_serial", "key_id", "recording_id", "segment", "device_sequence",
    "started_at", "ended_at", "pre_event_seconds", "sha256", "size",
    "previous_manifest_sha256", "final", "interrupted", "triggers", "gps", "clock_offset_s",
    "agent_version", "audio_in_buffer",
}  # fmt: skip


def _segment(home: Home, name: str, data: bytes) -> Path:
    path = home.spool / name
    path.write_bytes(data)
    return path


def _facts(path: Path, key_id: str, sequence: int, segment: int, final: bool) -> SegmentFacts:
    return SegmentFacts(
        path=path, device_serial="CAM-1", key_id=key_id, recording_id=f"rec{sequence}",
        segment=segment, device_sequence=sequence, started_at=1_800_000_000.0 + segment,
        ended_at=1_800_000_001.5 + segment, pre_event_seconds=29.6 if segment == 0 else 0.0,
        final=final, interrupted=False, clock_offset_s=-0.25, agent_version="0.1.0",
        audio_in_buffer=False,
        triggers=[Trigger(1_800_000_000.4, "sensor", "start", "drawn", source="holster")],
        gps=[Fix(1_800_000_000.5, 51.5, -0.12, 4.0)],
    )  # fmt: skip


def test_manifest_fields_signature_and_chain(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.create()
    key = keys.load_or_create(home.key_path)
    public = keys.public_raw(key)
    key_id = keys.key_id(public)
    written: list[tuple[Path, str]] = []
    for sequence, segments in ((1, 2), (2, 1)):  # two recordings, one chain
        for segment in range(segments):
            path = _segment(home, f"CAM-1-{sequence:06d}-{segment:04d}.mp4", b"x" * (segment + 9))
            sha = manifest.write(
                home, key, _facts(path, key_id, sequence, segment, segment == segments - 1)
            )
            written.append((path, sha))
    previous = None
    for path, sha in written:
        data, signature = manifest.read(path)
        assert hashlib.sha256(data).hexdigest() == sha
        assert keys.verify(public, signature, data)
        assert not keys.verify(public, signature, data.replace(b"CAM-1", b"CAM-2"))
        record = json.loads(data)
        assert set(record) == PROTOCOL_FIELDS
        assert record["format"] == "overt-capture-manifest/1"
        assert record["previous_manifest_sha256"] == previous
        assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert record["size"] == path.stat().st_size
        assert record["started_at"].endswith("Z") and len(record["started_at"]) == 27
        assert record["triggers"][0] == {
            "at": "2027-01-15T08:00:00.400000Z", "kind": "sensor", "action": "start",
            "reason": "drawn", "source": "holster",
        }  # fmt: skip
        assert record["gps"][0]["accuracy_m"] == 4.0
        previous = sha
    assert home.chain().last_manifest_sha256 == previous
    assert key_id == hashlib.sha256(public).hexdigest()[:16]


def test_device_sequence_is_never_handed_out_twice(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.create()
    assert [home.next_sequence() for _ in range(3)] == [1, 2, 3]
    assert Home(tmp_path).next_sequence() == 4  # saved, not held in memory


def test_a_crash_between_manifest_and_chain_head_is_repaired(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.create()
    key = keys.load_or_create(home.key_path)
    key_id = keys.key_id(keys.public_raw(key))
    first = _segment(home, "CAM-1-000001-0000.mp4", b"one")
    manifest.write(home, key, _facts(first, key_id, 1, 0, True))
    head = home.chain()
    second = _segment(home, "CAM-1-000002-0000.mp4", b"two")
    sha = manifest.write(home, key, _facts(second, key_id, 2, 0, True))
    home._save_chain(head)  # as if power went before the head moved
    manifest.repair_chain(home)
    assert home.chain().last_manifest_sha256 == sha


def test_the_key_file_is_private(tmp_path: Path) -> None:
    home = Home(tmp_path)
    home.create()
    keys.load_or_create(home.key_path)
    assert home.key_path.stat().st_mode & 0o777 == 0o600
    home.key_path.chmod(0o644)
    try:
        keys.load(home.key_path)
    except keys.DeviceKeyError as exc:
        assert "readable by others" in str(exc)
    else:
        raise AssertionError("a world-readable key was loaded")
