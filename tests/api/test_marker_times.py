"""Bookmark times through the API: an impossible time or offset is a 400 problem, never a
500, and leaves no marker and no custody entry (issue 11, item 8)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from overt.custody.models import CustodyEntry
from overt.evidence.models import Device, Marker, Officer, Original, Recording
from overt.testing.access import make_user, sign_in

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"


@pytest.fixture
def recording(db: None) -> Recording:
    officer = Officer.objects.create(number="MP1", name="PC Asha Patel")
    device = Device.objects.create(serial="CAM-A")
    rec = Recording.objects.create(title="Stop", officer=officer, device=device, trigger_on_at=T0)
    Original.objects.create(
        sha256="a" * 64,
        size=10,
        recording=rec,
        filename="a.mp4",
        source=Original.Source.CLI,
        duration_s=60,
        started_at=T0,
        playable=True,
    )
    return rec


@pytest.fixture
def manager(client: Client) -> Client:
    return sign_in(client, make_user("manager", "evidence-manager"))


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"at": "9999-12-31T23:59:59-23:59"}, "at", "range"),
        ({"at": "0001-01-01T00:00:00+23:59"}, "at", "range"),
        ({"at": "9999-12-31T23:59:59Z"}, "at", "outside the accepted range"),
        ({"at": "1999-12-31T23:59:59Z"}, "at", "outside the accepted range"),
        ({"offset_s": 1e300}, "offset_s", ""),
        ({"offset_s": 1e12}, "offset_s", ""),
    ],
)
def test_impossible_marker_times_are_a_problem(
    manager: Client, recording: Recording, body: dict, field: str, message: str
) -> None:
    if "offset_s" in body:
        body = {**body, "original": recording.originals.get().pk}
    response = manager.post(
        f"/api/recordings/{recording.pk}/markers/",
        {"text": "x", **body},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert field in json.dumps(response.json()) and message in json.dumps(response.json())
    assert not Marker.objects.exists()
    assert not CustodyEntry.objects.filter(action="marker-add").exists()


def test_a_time_in_range_is_taken(manager: Client, recording: Recording) -> None:
    response = manager.post(
        f"/api/recordings/{recording.pk}/markers/",
        {"text": "Door", "at": "2026-11-20T14:00:05+01:00"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert Marker.objects.get().at == datetime(2026, 11, 20, 13, 0, 5, tzinfo=UTC)
