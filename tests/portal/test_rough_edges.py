"""The rough edges issue 19 lists, each with a test that failed before its fix."""

from __future__ import annotations

import pytest
from portal_support import client_for, original, people, recording

from overt.access.matrix import Role

pytestmark = pytest.mark.django_db


def test_an_officer_can_give_statement_writing_as_the_reason() -> None:
    users = people()
    own = recording()
    original(own)
    page = client_for(users[Role.OFFICER]).get(f"/recordings/{own.pk}/").content.decode()
    assert '<option value="Statement writing">' in page


def test_assign_and_share_pick_a_user_from_those_the_grant_helps() -> None:
    users = people()
    rec = recording()
    page = client_for(users[Role.EVIDENCE_MANAGER]).get(f"/recordings/{rec.pk}/access")
    html = page.content.decode()
    assert page.status_code == 200
    assign = html.split('id="id_assign-username"', 1)[1].split("</select>", 1)[0]
    share = html.split('id="id_share-username"', 1)[1].split("</select>", 1)[0]
    assert '<option value="investigator">investigator (investigator)</option>' in assign
    assert '<option value="prosecutor">prosecutor (prosecutor)</option>' in share
    for nobody in ("officer", "auditor", "admin"):  # a grant gives their role nothing
        assert f'value="{nobody}"' not in assign and f'value="{nobody}"' not in share


def test_registering_a_source_needs_the_upload_right_and_a_description() -> None:
    from overt.evidence.models import Device

    users = people()
    officer = client_for(users[Role.OFFICER])
    assert (
        officer.post("/uploads/sources/", {"kind": "cctv", "description": "x"}).status_code == 403
    )
    manager = client_for(users[Role.EVIDENCE_MANAGER])
    bare = manager.post("/uploads/sources/", {"kind": "cctv", "description": "  "})
    assert bare["Location"] == "/uploads/new/?source=incomplete"
    made = manager.post("/uploads/sources/", {"kind": "cctv", "description": "Tesco, Victoria St"})
    device = Device.objects.get(model="CCTV export: Tesco, Victoria St")
    assert made["Location"] == f"/uploads/new/?device={device.serial}"
    page = manager.get(made["Location"]).content.decode()
    assert f'<option value="{device.serial}" selected>' in page


@pytest.mark.django_db(transaction=True)
def test_multi_camera_offsets_are_estimated_without_a_button(tmp_path) -> None:
    """Opening an incident starts the audio estimate; the page says it is under way
    (it claimed the offsets were applied before any had been estimated), then that they
    are applied once the job has run."""
    from datetime import UTC, datetime, timedelta

    from review_support import ingest

    from overt.evidence.models import Incident
    from overt.jobs.models import Job
    from overt.jobs.worker import run_worker

    start = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    ingest(
        tmp_path,
        officer="MP100",
        device="CAM-1",
        start=start,
        seconds=6,
        title="Camera one",
        incident="INC-1",
        world_seed=7,
    )
    ingest(
        tmp_path,
        officer="MP200",
        device="CAM-2",
        start=start + timedelta(seconds=1),
        seconds=6,
        title="Camera two",
        incident="INC-1",
        seed=2,
        world_seed=7,
    )
    run_worker(burst=True)  # the proxies and audio the estimate reads
    incident = Incident.objects.get(reference="INC-1")
    manager = client_for(people()[Role.EVIDENCE_MANAGER])
    first = manager.get(f"/incidents/{incident.pk}/").content.decode()
    assert "are being estimated from their audio now" in first
    assert Job.objects.filter(kind="review.sync-offsets").count() == 1
    run_worker(burst=True)
    second = manager.get(f"/incidents/{incident.pk}/").content.decode()
    assert "corrected by the offsets estimated from their audio" in second
    assert Job.objects.filter(kind="review.sync-offsets").count() == 1  # not queued again
