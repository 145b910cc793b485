"""The exhibit package of a recording from an overt camera (issue 13) carries its signed
manifests, the camera's keys and the verdict, and the standalone verifier recomputes the
capture signature offline: a defence expert's run passes, and any tampering fails."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from support_capture import START, Camera, enrol_directly, offload

from overt.access.matrix import Role
from overt.evidence.models import Recording
from overt.testing.access import make_user, sign_in

pytestmark = pytest.mark.scaled
REASON = {"category": "Disclosure preparation", "text": "CPS file for R v Jones"}


@pytest.fixture
def manager(client: Client) -> Client:
    return sign_in(client, make_user("em", Role.EVIDENCE_MANAGER))


def _recording(people: tuple, tmp_path: Path, *, alter: bool = False) -> Recording:
    from overt.access.registry import assign_device
    from overt.custody.services import Actor

    assign_device("CAM-1", "MP100", starts_at=START - timedelta(days=3), by=Actor.system("t"))
    camera = Camera("CAM-1")
    principal = enrol_directly(camera)
    datas = [hashlib.sha256(f"package/{alter}/{i}".encode()).digest() * 512 for i in range(2)]
    pieces = camera.record(datas)
    first = offload(tmp_path, principal, pieces[0])
    offload(tmp_path, principal, pieces[1], data=datas[1] + b"!" if alter else None)
    return Recording.objects.get(pk=first.recording_id)


def _export(manager: Client, recording: Recording, where: Path) -> Path:
    response = manager.post(
        f"/api/recordings/{recording.pk}/export/", REASON, content_type="application/json"
    )
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    archive.extractall(where)
    return where / f"exhibit-recording-{recording.pk}"


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=folder, capture_output=True, text=True, check=False
    )


def test_the_package_proves_the_capture_offline(
    manager: Client, people: tuple, tmp_path: Path
) -> None:
    recording = _recording(people, tmp_path)
    assert recording.capture_signature == "verified"
    folder = _export(manager, recording, tmp_path / "out")
    capture = json.loads((folder / "capture" / "capture.json").read_text())
    assert capture["capture_signature"] == "verified" and len(capture["originals"]) == 2
    assert capture["keys"][0]["valid_until"] is None
    assert (folder / "custody" / "overt_verify_capture.py").exists()
    checked = _run(folder, "custody/overt_verify.py", "custody/report.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"capture signature of recording {recording.pk}" in checked.stdout
    alone = _run(
        folder,
        "custody/overt_verify_capture.py",
        "capture/capture.json",
        "--originals",
        "originals",
    )
    assert alone.returncode == 0 and "VERDICT: PASS" in alone.stdout

    # A manifest changed after export: the verifier says so and fails.
    item = capture["originals"][1]
    path = folder / "capture" / item["manifest"]
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b'"segment":1', b'"segment":2'))
    tampered = _run(folder, "custody/overt_verify.py", "custody/report.json")
    assert tampered.returncode == 1
    assert "does not hash to its listed SHA-256" in tampered.stdout
    assert "recomputed 'broken', the server stated 'verified'" in tampered.stdout


def test_a_changed_original_fails_the_capture_check(
    manager: Client, people: tuple, tmp_path: Path
) -> None:
    folder = _export(manager, _recording(people, tmp_path), tmp_path / "out")
    (clip,) = [p for p in (folder / "originals").iterdir() if p.name.endswith("-1.mp4")]
    clip.chmod(0o644)
    clip.write_bytes(clip.read_bytes() + b"\0")
    alone = _run(
        folder,
        "custody/overt_verify_capture.py",
        "capture/capture.json",
        "--originals",
        "originals",
    )
    assert alone.returncode == 1 and "is not the listed file" in alone.stdout


def test_a_broken_recording_says_broken_and_the_check_agrees(
    manager: Client, people: tuple, tmp_path: Path
) -> None:
    recording = _recording(people, tmp_path, alter=True)
    assert recording.capture_signature == "broken"
    folder = _export(manager, recording, tmp_path / "out")
    checked = _run(folder, "custody/overt_verify.py", "custody/report.json")
    assert checked.returncode == 0, checked.stdout
    assert ": broken" in checked.stdout and "altered after capture" in checked.stdout


def test_a_recording_from_another_camera_has_no_capture_folder(
    manager: Client, people: tuple, clips: dict[str, Path], tmp_path: Path
) -> None:
    from overt.evidence.models import Original
    from overt.ingest.services import ingest_file

    result = ingest_file(clips["good"], officer_number="MP100", device_serial="CAM-1")
    recording = Original.objects.get(pk=result.id).recording
    folder = _export(manager, recording, tmp_path / "out")
    assert not (folder / "capture").exists()
    assert not (folder / "custody" / "overt_verify_capture.py").exists()
