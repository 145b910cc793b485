"""Encryption at rest (`encrypt_at_rest`): the real agent seals its segments to the key
overt gave it at enrolment, the spool holds nothing readable, overt opens each segment and
stores the plaintext original byte for byte (the hash the device signed), and a sealed
segment altered on the device is stored as received and flagged, never dropped."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import av
import pytest

from overt_camera import sealed
from overt_camera.home import Home

from .support_camera import AgentProcess, run_camera
from .test_end_to_end import _enrol, _offload, _record, _recording


def _sealed_home(tmp_path: Path, url: str, serial: str) -> Home:
    home = _enrol(tmp_path / "cam", url, serial, encrypt_at_rest=True)
    key = json.loads(home.server_key_path.read_text())
    assert key["scheme"] == sealed.SCHEME  # handed over at enrolment
    return home


def _segment_manifests(home: Home) -> list[tuple[Path, dict]]:
    return [
        (path, json.loads(path.with_suffix(".manifest.json").read_bytes()))
        for path in sorted(home.spool.glob("*.mp4"))
    ]


def test_sealed_segments_are_unreadable_on_the_device_and_stored_plain(
    overt_url: str, tmp_path: Path
) -> None:
    from overt.evidence.store import get_store

    home = _sealed_home(tmp_path, overt_url, "SEAL-1")
    agent = AgentProcess(home, args=("--offload", "manual")).start()
    _record(agent, 3)
    assert agent.stop() == 0
    ((segment, manifest),) = _segment_manifests(home)
    data = segment.read_bytes()
    assert data.startswith(sealed.MAGIC)
    assert b"ftyp" not in data and b"moof" not in data  # no MP4 box in the clear
    encryption = manifest["encryption"]
    assert encryption["sealed_sha256"] == hashlib.sha256(data).hexdigest()
    assert encryption["sealed_size"] == len(data)
    assert manifest["sha256"] != encryption["sealed_sha256"]  # the plaintext's, signed
    assert (segment.stat().st_mode & 0o777) == 0o600
    code, report = _offload(home)
    assert code == 0, report
    (offloaded,) = report["offloaded"]
    assert offloaded["sha256"] == manifest["sha256"]
    assert offloaded["capture_signature"] == "verified"
    row = _recording("SEAL-1")
    assert row["capture_signature"] == "verified", row
    # The original in the store is the plaintext the device muxed: its SHA-256 is the one
    # the device signed before sealing, and it plays.
    store = get_store()
    assert store.rehash(manifest["sha256"]) == manifest["sha256"]
    with store.local_copy(manifest["sha256"]) as path, av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames >= 3 * 10


def test_an_altered_sealed_segment_is_stored_as_received_and_flagged(
    overt_url: str, tmp_path: Path
) -> None:
    home = _sealed_home(tmp_path, overt_url, "SEAL-2")
    agent = AgentProcess(home, args=("--offload", "manual")).start()
    _record(agent, 3)
    assert agent.stop() == 0
    ((segment, _),) = _segment_manifests(home)
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one sealed byte changed on the device
    segment.write_bytes(bytes(data))
    code, report = _offload(home)
    assert code == 1 and "kept on the device" in report["kept"][0]["reason"]
    assert segment.exists()  # the device keeps it: a person decides
    row = _recording("SEAL-2")
    assert row["capture_signature"] == "broken", row
    assert any("did not decrypt" in problem for problem in row["capture_problems"]), row
    from overt.evidence.models import Original

    # Stored as it arrived (the altered sealed bytes), not dropped.
    assert Original.objects.filter(sha256=hashlib.sha256(bytes(data)).hexdigest()).exists()


def test_kill_9_while_sealing_recovers_from_the_journal_and_verifies(
    overt_url: str, tmp_path: Path
) -> None:
    """The device cannot read its sealed segment back: recovery cuts it to the last fsynced
    record and signs the plaintext hash its journal kept; overt opens and verifies it."""
    import time

    home = _sealed_home(tmp_path, overt_url, "SEAL-3")
    agent = AgentProcess(home, args=("--offload", "manual")).start()
    agent.wait_buffered(2)
    agent.trigger("start", "holster")
    time.sleep(4)
    agent.kill()
    (segment,) = home.spool.glob("*.mp4")
    with segment.open("ab") as handle:  # the record being written when power went
        handle.write(b"\x00\x00\x10\x00 half a record")
    code, report = _offload(home)  # no agent runs: the offload recovers the segment first
    assert code == 0, report
    (offloaded,) = report["offloaded"]
    row = _recording("SEAL-3")
    assert row["capture_signature"] == "verified", row
    assert any("interrupted" in problem for problem in row["capture_problems"])
    from overt.evidence.store import get_store

    with get_store().local_copy(offloaded["sha256"]) as path, av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 2 * 10


def test_encrypt_at_rest_without_a_server_key_is_a_clear_error(tmp_path: Path) -> None:
    from .support_camera import offline_home

    home = offline_home(tmp_path / "cam", encrypt_at_rest=True)
    done = run_camera(
        "run", "--home", str(home.root), "--source", "synthetic", "--control", "127.0.0.1:0"
    )
    assert done.returncode == 1
    assert "encrypt_at_rest is on but" in done.stderr and "server-key.json" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_server_opens_the_agents_records_only_whole_and_in_order(tmp_path: Path) -> None:
    from overt.uploads import unseal

    server = sealed.ServerKey.from_json(unseal.public_key_json())
    parts = [b"ftyp and moov" * 40, b"moof and mdat" * 900, b"the last fragment" * 7]
    sealer = sealed.Sealer(server)
    records = [sealer.seal(part) for part in parts]
    good = tmp_path / "good.mp4"
    good.write_bytes(sealer.header + b"".join(records))
    opened = unseal.open_upload(good, tmp_path / "good.plain")
    assert opened.path.read_bytes() == b"".join(parts)
    assert opened.sha256 == hashlib.sha256(b"".join(parts)).hexdigest()
    assert opened.size == sum(map(len, parts))
    other = sealed.Sealer(server)  # another segment's header: its records do not belong
    for name, data, why in [
        ("swapped", sealer.header + records[1] + records[0] + records[2], "does not decrypt"),
        ("cut", sealer.header + b"".join(records)[:-5], "cut short"),
        ("moved", other.header + b"".join(records), "does not decrypt"),
        ("plain", b"\x00\x00\x00\x18ftypisom" + bytes(100), "not a sealed segment"),
    ]:
        path = tmp_path / f"{name}.mp4"
        path.write_bytes(data)
        with pytest.raises(unseal.SealError, match=why):
            unseal.open_upload(path, tmp_path / f"{name}.plain")
        assert not (tmp_path / f"{name}.plain").exists()  # nothing half-written left
    foreign = sealed.Sealer(sealed.ServerKey.from_json(_foreign_key()))
    path = tmp_path / "foreign.mp4"
    path.write_bytes(foreign.header + foreign.seal(b"x"))
    with pytest.raises(unseal.SealError, match="not this server's"):
        unseal.open_upload(path, tmp_path / "foreign.plain")


def _foreign_key() -> dict[str, str]:
    import base64

    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    public = X25519PrivateKey.generate().public_key().public_bytes_raw()
    return {
        "scheme": sealed.SCHEME,
        "key_id": sealed.key_id(public),
        "public_key": base64.b64encode(public).decode(),
    }
