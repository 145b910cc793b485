"""pre_event_seconds, capture_signature and capture_problems (issue 13) in the recordings
API (list and detail), in `overt recording list --json`, and on the recording page."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from support_capture import START, Camera, enrol_directly, offload

from overt.evidence.models import Recording
from overt.retention.services import recording_rows
from overt.testing.access import make_user, sign_in

# Database tests here run on both engines by folder (overt.testing.engines); the ones
# that touch no engine run once.


@pytest.fixture
def gap(people: tuple[Any, Any], tmp_path: Path) -> Recording:
    """A camera's recording whose second of three segments has not arrived."""
    from overt.access.registry import assign_device
    from overt.custody.services import Actor

    assign_device("CAM-1", "MP100", starts_at=START - timedelta(days=3), by=Actor.system("t"))
    camera = Camera("CAM-1")
    principal = enrol_directly(camera)
    datas = [hashlib.sha256(f"fields/{i}".encode()).digest() * 256 for i in range(3)]
    pieces = camera.record(datas, pre_event=27.25)
    offload(tmp_path, principal, pieces[0])
    last = offload(tmp_path, principal, pieces[2])
    return Recording.objects.get(pk=last.recording_id)


def test_the_api_and_the_list_say_what_the_camera_signed(client: Client, gap: Recording) -> None:
    sign_in(client, make_user("api-user", "evidence-manager"))
    detail = client.get(f"/api/recordings/{gap.pk}/").json()
    assert detail["pre_event_seconds"] == 27.25
    assert detail["capture_signature"] == "gap"
    assert detail["capture_problems"] == ["segment 1 is missing"]
    assert detail["clock_offset_s"] == 0.25
    assert {o["capture_signature"] for o in detail["originals"]} == {"verified"}
    assert all(len(o["capture_manifest_sha256"]) == 64 for o in detail["originals"])
    (listed,) = client.get("/api/recordings/").json()["results"]
    assert (listed["capture_signature"], listed["capture_problems"]) == (
        "gap",
        ["segment 1 is missing"],
    )
    assert listed["pre_event_seconds"] == 27.25
    (row,) = [r.to_json() for r in recording_rows()]  # what `overt recording list --json` prints
    assert (row["pre_event_seconds"], row["capture_signature"], row["capture_problems"]) == (
        27.25,
        "gap",
        ["segment 1 is missing"],
    )


def test_the_recording_page_has_the_capture_panel(client: Client, gap: Recording) -> None:
    sign_in(client, make_user("em", "evidence-manager"))
    reason = {"category": "Investigation", "text": "checking the camera's signature"}
    client.post(f"/recordings/{gap.pk}/", reason)  # the footage shows once justified
    page = client.get(f"/recordings/{gap.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-capture-signature="gap"' in html and "segment 1 is missing" in html
    assert "Signed at the lens" in html and gap.capture_recording_id in html
    assert html.count('data-clip-capture="verified"') == 2


def test_the_cli_lists_the_fields(overt_cli, clips: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    for args in (
        ("officer", "add", "MP100", "--name", "PC Test"),
        ("device", "add", "CAM-1", "--model", "Cam"),
    ):
        assert overt_cli(*args).returncode == 0
    out = overt_cli("ingest", str(clips["good"]), "--officer", "MP100", "--device", "CAM-1")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(overt_cli("recording", "list", "--json").stdout)
    assert (row["pre_event_seconds"], row["capture_signature"], row["capture_problems"]) == (
        0.0,
        "unsigned",
        [],
    )
