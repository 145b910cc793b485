"""Issue 11 item 4: an Axis Body Worn System reading back a clip it sent is a device
read of evidence: logged with the camera as actor, and refused once the recording's
access changed (an access class, an incident, a post-incident procedure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
from swiftclient import client as swift

from overt.access.grants import set_access_class, start_post_incident
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Incident, Recording
from overt.uploads.axis.protocol import axis_key
from overt.uploads.models import AxisObject

START = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
CLIP = "20240501_140000_1.mkv"


def _upload(server: str, container: str, data: bytes, *, complete: bool) -> tuple[str, str]:
    url, token = swift.get_auth(f"{server}/auth/v1.0", "axis", axis_key(), auth_version="1")
    epoch = int(START.timestamp())
    swift.put_container(
        url,
        token,
        container,
        headers={
            "X-Container-Meta-Userid": "MP100",
            "X-Container-Meta-Bwcserialnumber": "CAM-1",
            "X-Container-Meta-Triggerontime": str(epoch),
        },
    )
    swift.put_object(
        url,
        token,
        container,
        CLIP,
        contents=data,
        headers={"X-Object-Meta-Starttime": str(epoch), "X-Object-Meta-Stoptime": str(epoch + 30)},
    )
    if complete:
        swift.post_container(url, token, container, headers={"X-Container-Meta-Status": "Complete"})
    return url, token


def _entries(action: str) -> list[dict]:
    rows = CustodyEntry.objects.filter(action=action).order_by("index")
    return [{**json.loads(row.entry), "actor": row.actor} for row in rows]


def _get(url: str, token: str, container: str) -> requests.Response:
    return requests.get(f"{url}/{container}/{CLIP}", headers={"X-Auth-Token": token}, timeout=30)


def test_every_get_of_an_original_is_logged_with_the_device_as_actor(
    server, people, unique_bytes
) -> None:
    container = "MP100_CAM-1_20240501_140000"
    data = unique_bytes(5000)
    url, token = _upload(server, container, data, complete=False)

    staged = _get(url, token, container)
    assert staged.status_code == 200 and staged.content == data
    swift.post_container(url, token, container, headers={"X-Container-Meta-Status": "Complete"})
    stored = _get(url, token, container)
    assert stored.status_code == 200 and stored.content == data
    head = requests.head(f"{url}/{container}/{CLIP}", headers={"X-Auth-Token": token}, timeout=30)
    assert head.status_code == 200  # metadata only: no footage leaves, nothing to log

    reads = _entries("download")
    assert len(reads) == 2
    original = AxisObject.objects.get(name=CLIP).original
    for entry in reads:
        assert entry["actor"] == "device:CAM-1"
        assert entry["details"]["via"] == "swift"
        assert entry["client"]["address"] == "127.0.0.1"
    assert reads[0]["details"]["what"] == "staged clip"
    assert reads[1]["details"]["what"] == "original"
    assert reads[1]["object"]["sha256"] == original.sha256
    assert reads[1]["object"]["ids"]["recording"] == original.recording_id


@pytest.mark.parametrize("change", ["confidential", "incident", "post-incident"])
def test_a_read_is_refused_once_the_recordings_access_changed(
    server, people, unique_bytes, django_user_model, change
) -> None:
    container = "MP100_CAM-1_20240501_150000"
    data = unique_bytes(3000)
    url, token = _upload(server, container, data, complete=True)
    assert _get(url, token, container).status_code == 200
    recording = AxisObject.objects.get(name=CLIP).original.recording
    lead = Actor("user", "lead")
    if change == "confidential":
        set_access_class(recording, "confidential", by=lead, reason="sensitive")
    else:
        incident = Incident.objects.create(reference="CAD-1")
        Recording.objects.filter(pk=recording.pk).update(incident=incident)
        if change == "post-incident":
            manager = django_user_model.objects.create(username="pim")
            start_post_incident(incident, officers=[recording.officer], manager=manager, by=lead)

    refused = _get(url, token, container)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "may no longer read it back" in refused.json()["detail"]
    assert len(_entries("download")) == 1  # only the read before the change
    (refusal,) = _entries("access-refused")
    assert refusal["actor"] == "device:CAM-1"
    assert refusal["object"]["ids"]["recording"] == recording.pk
