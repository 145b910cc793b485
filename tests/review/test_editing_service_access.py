"""The edit services check EDIT themselves, whichever edge calls them.

Called directly (as a CLI, a page or a future edge would), edit_recording() and
add_marker() refuse a user who may not edit the recording, log the refusal
(`access-refused`) and change nothing; a recording the user may not know of is NotFound.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from overt import errors
from overt.access.services import AccessDenied
from overt.custody.models import CustodyEntry
from overt.evidence.models import Device, Marker, Officer, Original, Recording
from overt.review import editing
from overt.testing.access import make_user

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


@pytest.fixture
def own_and_hidden(db: None) -> tuple[Recording, Recording]:
    asha = Officer.objects.create(number="MP1", name="PC Asha Patel")
    tom = Officer.objects.create(number="MP2", name="PC Tom Hughes")
    device = Device.objects.create(serial="CAM-A")
    own = Recording.objects.create(
        title="Stop A", officer=asha, device=device, trigger_on_at=T0, notes=""
    )
    Original.objects.create(
        sha256=f"{1:064x}",
        size=10,
        recording=own,
        filename="a.mp4",
        source=Original.Source.CLI,
        duration_s=60,
        started_at=T0,
        playable=True,
    )
    hidden = Recording.objects.create(
        title="Secret stop", officer=tom, device=device, trigger_on_at=T0 - timedelta(days=1)
    )
    return own, hidden


def _refusals(username: str) -> list[dict]:
    return [
        json.loads(e.entry)["details"]
        for e in CustodyEntry.objects.filter(action="access-refused", actor=f"user:{username}")
    ]


def test_edit_recording_refuses_a_user_without_edit_and_logs_it(own_and_hidden) -> None:
    own, hidden = own_and_hidden
    officer = make_user("asha", "officer", officer="MP1")  # sees her footage, may not edit

    with pytest.raises(AccessDenied):
        editing.edit_recording(officer, own, {"notes": "changed behind the API"}, None)
    own.refresh_from_db()
    assert own.notes == ""
    assert not CustodyEntry.objects.filter(action="metadata-change").exists()
    assert [r["action"] for r in _refusals("asha")] == ["edit"]

    with pytest.raises(errors.NotFound):
        editing.edit_recording(officer, hidden, {"notes": "x"}, None)
    hidden.refresh_from_db()
    assert hidden.notes == ""


def test_add_marker_refuses_a_user_without_edit_and_logs_it(own_and_hidden) -> None:
    own, hidden = own_and_hidden
    officer = make_user("asha", "officer", officer="MP1")
    where = editing.MarkerAt(at=T0)

    with pytest.raises(AccessDenied):
        editing.add_marker(officer, own, "added behind the API", where, None)
    assert not Marker.objects.filter(recording=own).exists()
    assert not CustodyEntry.objects.filter(action="marker-add").exists()
    assert [r["action"] for r in _refusals("asha")] == ["edit"]

    with pytest.raises(errors.NotFound):
        editing.add_marker(officer, hidden, "x", where, None)
    assert not Marker.objects.exists()


def test_a_user_with_edit_still_edits_through_the_service(own_and_hidden) -> None:
    own, _ = own_and_hidden
    manager = make_user("manager", "evidence-manager")

    assert editing.edit_recording(manager, own, {"notes": "checked"}, None) == ["notes"]
    marker = editing.add_marker(manager, own, "here", editing.MarkerAt(at=T0), None)
    assert marker.recording_id == own.pk
    assert _refusals("manager") == []
