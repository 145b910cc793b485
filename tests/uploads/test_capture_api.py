"""POST /api/capture/manifests/ and GET /api/capture/manifests/{sha256}/ (issue 13), then
the segment through tus with tuspy, as a camera agent offloads: one recording, verified,
and the status the agent asks before deleting its copy."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from support_capture import Camera
from tusclient import client as tus_client

from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Original, Recording
from overt.ingest.models import CaptureManifest
from overt.uploads import enrolment

from .conftest import create

URL = "/api/capture/manifests/"


def _enrolled(server: str, serial: str = "CAM-1") -> tuple[Camera, dict[str, str]]:
    camera = Camera(serial)
    code = enrolment.issue_code(serial, by=Actor("user", "admin")).code
    body = {"serial": serial, "code": code, "public_key": camera.public_key_b64}
    answer = requests.post(f"{server}/api/devices/enrol/", json=body, timeout=30).json()
    return camera, {"Authorization": f"Bearer {answer['device_token']}"}


def _files(tag: str, n: int) -> list[bytes]:
    return [hashlib.sha256(f"{tag}/{i}".encode()).digest() * 4096 for i in range(n)]


def test_an_agent_offload_ends_verified(server: str, people: tuple, tmp_path: Path) -> None:
    from overt.access.registry import assign_device

    assign_device("CAM-1", "MP100", by=Actor.system("test"))
    camera, auth = _enrolled(server)
    recorded = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    pieces = camera.record(_files("offload", 2), start=recorded, seconds=2.0)
    for piece in pieces:
        posted = requests.post(f"{server}{URL}", json=piece.post_body(), headers=auth, timeout=30)
        assert posted.status_code == 201, posted.text
        assert posted.json() == {"manifest_sha256": piece.manifest_sha256, "status": "received"}
        again = requests.post(f"{server}{URL}", json=piece.post_body(), headers=auth, timeout=30)
        assert again.status_code == 200
        before = requests.get(f"{server}{URL}{piece.manifest_sha256}/", headers=auth, timeout=30)
        assert before.json()["stored"] is False and before.json()["sha256"] is None
        path = tmp_path / f"segment-{piece.segment}.mp4"
        path.write_bytes(piece.data)
        body = json.loads(piece.manifest)
        uploader = tus_client.TusClient(f"{server}/files/", headers=auth).uploader(
            file_path=str(path),
            chunk_size=1 << 20,
            metadata={
                "filename": path.name,
                "device": "CAM-1",
                "sha256": piece.sha256,
                "started_at": body["started_at"],
                "stopped_at": body["ended_at"],
                "capture-manifest": piece.manifest_sha256,
                "capture-recording": piece.recording_id,
            },
        )
        uploader.upload()
        after = requests.get(f"{server}{URL}{piece.manifest_sha256}/", headers=auth, timeout=30)
        status = after.json()
        assert status["stored"] is True and status["sha256"] == body["sha256"]
    recording = Recording.objects.get()
    assert recording.capture_signature == "verified", recording.capture_problems
    assert recording.originals.count() == 2 and recording.pre_event_seconds == 30.0
    assert status["capture_signature"] == "verified" and status["recording"] == recording.pk
    received = CustodyEntry.objects.filter(action="capture-manifest")
    assert received.count() == 2
    assert json.loads(received.first().entry)["actor"] == {"kind": "device", "id": "CAM-1"}  # type: ignore[union-attr]


def test_refusals_are_problems_and_keep_nothing(server: str, people: tuple) -> None:
    from overt.evidence.models import Device

    Device.objects.create(serial="CAM-2")
    _camera, auth = _enrolled(server)
    other, _ = _enrolled(server, "CAM-2")
    (piece,) = other.record(_files("refusals", 1))

    def post(body: object, headers: dict[str, str] = auth) -> requests.Response:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return requests.post(
            f"{server}{URL}",
            data=data,
            headers={**headers, "Content-Type": "application/json"},
            timeout=30,
        )

    for body, status in [
        (b"{oops", 400),
        (b'"text"', 400),
        ({"manifest": "!!!", "signature": ""}, 400),
        ({"manifest": "", "signature": ""}, 400),
        ({"manifest": "e30=", "signature": "", "extra": 1}, 400),
        ({"signature": ""}, 400),
        (piece.post_body(), 403),  # CAM-1's token, CAM-2's manifest
        ({"manifest": "A" * (3 << 20), "signature": ""}, 413),
    ]:
        answer = post(body)
        assert answer.status_code == status, (body if isinstance(body, bytes) else "", answer.text)
        assert answer.headers["Content-Type"] == "application/problem+json"
    assert post(piece.post_body(), {}).status_code == 401
    assert post(piece.post_body(), {"Authorization": "Bearer ovt_nope"}).status_code == 401
    assert not CaptureManifest.objects.exists()
    missing = requests.get(f"{server}{URL}{'0' * 64}/", headers=auth, timeout=30)
    assert missing.status_code == 404
    assert requests.delete(f"{server}{URL}", headers=auth, timeout=30).status_code == 405


def test_an_unreadable_manifest_is_still_kept(server: str, people: tuple) -> None:
    _camera, auth = _enrolled(server)
    body = {
        "manifest": base64.b64encode(b"not json at all").decode(),
        "signature": base64.b64encode(bytes(64)).decode(),
    }
    answer = requests.post(f"{server}{URL}", json=body, headers=auth, timeout=30)
    assert answer.status_code == 201
    row = CaptureManifest.objects.get()
    assert bytes(row.body) == b"not json at all" and not row.signature_ok
    assert row.problem.startswith("unreadable manifest") and row.device.serial == "CAM-1"


def test_tus_refuses_malformed_capture_metadata(server: str, people: tuple, camera) -> None:  # type: ignore[no-untyped-def]
    bad = create(server, camera, 5, **{"capture-manifest": "xyz", "capture-recording": "r"})
    assert bad.status_code == 400 and "capture-manifest" in bad.json()["detail"]
    lone = create(server, camera, 5, **{"capture-manifest": "a" * 64})
    assert lone.status_code == 400 and "capture-recording" in lone.json()["detail"]
    long = create(server, camera, 5, **{"capture-recording": "r" * 65})
    assert long.status_code == 400
    assert not Original.objects.exists()
