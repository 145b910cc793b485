"""Verification at ingest (issue 13): segments offloaded by a camera agent become one
Recording per (device, recording id), their capture signature is worked out again as each
segment or manifest arrives, and nothing is refused."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from support_capture import START, Camera, Piece

from overt.custody.models import CustodyEntry
from overt.evidence.models import Original, Recording
from overt.ingest.models import CaptureManifest, DeviceKey
from overt.ingest.request import IngestRequest
from overt.ingest.services import ingest
from overt.uploads import manifests
from overt.uploads.tokens import Principal, device_for_token, issue_token

pytestmark = pytest.mark.scaled


@pytest.fixture
def camera(people: tuple[Any, Any], request: pytest.FixtureRequest) -> Camera:
    from overt.access.registry import assign_device
    from overt.custody.services import Actor

    assign_device("CAM-1", "MP100", starts_at=START - timedelta(days=30), by=Actor.system("t"))
    cam = Camera("CAM-1")
    DeviceKey.objects.create(
        device=people[1],
        key_id=cam.key_id,
        public_key=cam.public_key.hex(),
        valid_from=START - timedelta(days=1),
    )
    cam.salt = request.node.nodeid  # type: ignore[attr-defined]
    return cam


@pytest.fixture
def principal(camera: Camera) -> Principal:
    found = device_for_token(issue_token("CAM-1", dock=False, created_by="test"))
    assert found is not None
    return found


def _files(camera: Camera, n: int, tag: str = "") -> list[bytes]:
    seed = f"{camera.salt}{tag}"  # type: ignore[attr-defined]
    return [hashlib.sha256(f"{seed}/{i}".encode()).digest() * 64 for i in range(n)]


def _offload(
    tmp_path: Path,
    principal: Principal,
    piece: Piece,
    *,
    data: bytes | None = None,
    post: bool = True,
) -> Original:
    if post:
        manifests.receive(principal, piece.post_body())
    path = tmp_path / f"{piece.recording_id}-{piece.segment}.mp4"
    path.write_bytes(piece.data if data is None else data)
    body = json.loads(piece.manifest)
    result = ingest(
        IngestRequest(
            path=path,
            device_serial="CAM-1",
            started_at=_time(body["started_at"]),
            stopped_at=_time(body["ended_at"]),
            capture_manifest=piece.manifest_sha256,
            capture_recording=piece.recording_id,
        )
    )
    return Original.objects.get(pk=result.id)


def _time(text: str):  # type: ignore[no-untyped-def]
    from overt.custody.overt_verify_capture import parse_time

    return parse_time(text)


def test_segments_become_one_recording_verified_when_the_last_arrives(
    camera: Camera, principal: Principal, tmp_path: Path
) -> None:
    gps = [
        {"at": "2026-11-20T14:00:05.000000Z", "lat": 51.5, "lon": -0.1},
        {"at": "2026-11-20T14:00:01.000000Z", "lat": 51.4, "lon": -0.2},
        {"at": "2026-11-20T14:00:02.000000Z", "lat": 123, "lon": 0},
    ]
    pieces = camera.record(_files(camera, 3), pre_event=12.5, gps=gps, clock_offset_s=-1.5)
    first = _offload(tmp_path, principal, pieces[0])
    recording = first.recording
    assert (recording.capture_signature, first.capture_signature) == ("gap", "verified")
    entry = json.loads(CustodyEntry.objects.get(action="ingest", object_sha256=first.sha256).entry)
    assert entry["details"]["capture"]["capture_signature"] == "verified"
    assert entry["details"]["capture"]["recording_capture_signature"] == "gap"
    for piece in pieces[1:]:
        assert _offload(tmp_path, principal, piece).recording_id == recording.pk
    recording.refresh_from_db()
    assert Recording.objects.filter(device__serial="CAM-1").count() == 1
    assert recording.capture_signature == "verified" and recording.capture_problems == []
    assert recording.pre_event_seconds == 12.5
    assert recording.trigger_on_at == START + timedelta(seconds=12.5)
    assert recording.trigger_off_at == START + timedelta(minutes=3)
    assert recording.clock_offset_s == -1.5
    assert [p["lat"] for p in recording.gps_track] == [51.4, 51.5]  # in time order, 123 left out
    assert (recording.start_latitude, recording.start_longitude) == (51.4, -0.2)
    assert recording.trigger_on_reason == "manual: test"
    changes = CustodyEntry.objects.filter(action="capture-verdict")
    assert changes.count() == 3  # gap -> verified, one entry on each original
    details = json.loads(changes.first().entry)["details"]  # type: ignore[union-attr]
    assert (details["before"], details["after"]) == ("gap", "verified")
    assert CaptureManifest.objects.filter(original__recording=recording).count() == 3


def test_an_altered_segment_is_stored_and_broken(
    camera: Camera, principal: Principal, tmp_path: Path
) -> None:
    pieces = camera.record(_files(camera, 2))
    _offload(tmp_path, principal, pieces[0])
    altered = _offload(tmp_path, principal, pieces[1], data=pieces[1].data[:-1] + b"!")
    assert altered.capture_signature == "broken"
    assert "altered after capture" in altered.capture_problems[0]
    assert altered.recording.capture_signature == "broken"


def test_a_bad_signature_is_kept_as_evidence_and_flagged(
    camera: Camera, principal: Principal, tmp_path: Path
) -> None:
    (piece,) = camera.record(_files(camera, 1))
    forged = Piece(piece.data, piece.manifest, bytes(64), piece.recording_id, 0)
    assert manifests.receive(principal, forged.post_body()).created
    row = CaptureManifest.objects.get(sha256=piece.manifest_sha256)
    assert not row.signature_ok and "does not verify" in row.problem
    assert bytes(row.body) == piece.manifest
    original = _offload(tmp_path, principal, piece, post=False)
    assert original.capture_signature == "broken"


def test_a_manifest_after_its_segment_verifies_it_then(
    camera: Camera, principal: Principal, tmp_path: Path
) -> None:
    (piece,) = camera.record(_files(camera, 1))
    original = _offload(tmp_path, principal, piece, post=False)
    assert original.capture_signature == "unsigned"
    assert "never received" in original.capture_problems[0]
    manifests.receive(principal, piece.post_body())
    original.refresh_from_db()
    assert original.capture_signature == "verified"
    assert original.recording.capture_signature == "verified"
    status = manifests.status(principal, piece.manifest_sha256)
    assert status == {
        "manifest_sha256": piece.manifest_sha256,
        "stored": True,
        "sha256": piece.sha256,
        "recording": original.recording_id,
        "capture_signature": "verified",
    }


def test_a_recording_skipped_on_the_device_is_a_gap_until_it_arrives(
    camera: Camera, principal: Principal, tmp_path: Path
) -> None:
    first = camera.record(_files(camera, 1, "a"))
    second = camera.record(_files(camera, 1, "b"), start=START + timedelta(hours=1))
    third = camera.record(_files(camera, 1, "c"), start=START + timedelta(hours=2))
    _offload(tmp_path, principal, first[0])
    late = _offload(tmp_path, principal, third[0])
    assert late.recording.capture_signature == "gap"
    assert (
        "recording 2 before this one has not been received" in (late.recording.capture_problems[0])
    )
    _offload(tmp_path, principal, second[0])
    late.recording.refresh_from_db()
    assert late.recording.capture_signature == "verified"
    assert Recording.objects.count() == 3


def test_a_clip_without_capture_metadata_is_as_before(
    people: tuple[Any, Any], clips: dict[str, Path]
) -> None:
    result = ingest(
        IngestRequest(path=clips["good"], officer_number="MP100", device_serial="CAM-1")
    )
    original = Original.objects.get(pk=result.id)
    assert original.capture_signature == "unsigned" and original.capture_manifest_sha256 == ""
    entry = json.loads(CustodyEntry.objects.get(action="ingest").entry)
    assert "capture" not in entry["details"]
    assert original.recording.capture_recording_id == ""


def test_a_duplicate_and_a_repeat_post_change_nothing(
    camera: Camera, principal: Principal, tmp_path: Path
) -> None:
    (piece,) = camera.record(_files(camera, 1))
    original = _offload(tmp_path, principal, piece)
    again = manifests.receive(principal, piece.post_body())
    assert not again.created and again.to_json() == {
        "manifest_sha256": piece.manifest_sha256,
        "status": "received",
    }
    assert _offload(tmp_path, principal, piece, post=False).pk == original.pk
    assert CaptureManifest.objects.count() == 1
    assert timezone.now() > original.ingested_at


def test_absurd_numbers_in_a_signed_manifest_are_judged_not_crashed_on(
    camera: Camera, principal: Principal, tmp_path: Path
) -> None:
    (piece,) = camera.record(_files(camera, 1))
    body = {**json.loads(piece.manifest), "segment": 2**40, "device_sequence": 2**62}
    manifest, signature = camera.sign(body)
    odd = Piece(piece.data, manifest, signature, piece.recording_id, 2**40)
    assert manifests.receive(principal, odd.post_body()).created
    row = CaptureManifest.objects.get()
    assert row.signature_ok and row.segment is None and row.device_sequence is None
    original = _offload(tmp_path, principal, odd, post=False)
    assert original.recording.capture_signature == "gap"
    assert f"segments 0 to {2**40 - 1} are missing" in original.recording.capture_problems
