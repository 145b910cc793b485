"""The recording page leads those who may redact a recording to its redaction projects:
to start one (the redaction list's form, with the clip chosen) and to open those started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from overt.evidence.models import Device, Officer, Original, Recording
from overt.redaction.models import RedactionProject
from overt.testing.access import make_user, sign_in

START = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


def _original(recording: Recording, n: int, **kw) -> Original:
    fields = dict(
        sha256=f"{n:064x}",
        size=123_456,
        recording=recording,
        filename=f"clip-{n}.mp4",
        source=Original.Source.CLI,
        container="mov,mp4,m4a,3gp,3g2,mj2",
        video_codec="h264",
        duration_s=20.0,
        width=320,
        height=180,
        fps=25.0,
        started_at=START + timedelta(seconds=20 * n),
        playable=True,
    )
    return Original.objects.create(**{**fields, **kw})


@pytest.fixture
def footage(db: None) -> dict:
    asha = Officer.objects.create(number="MP1", name="PC Asha Patel")
    recording = Recording.objects.create(
        title="Armed deployment",
        officer=asha,
        device=Device.objects.create(serial="CAM-A"),
        trigger_on_at=START,
    )
    broken = _original(recording, 1, playable=False, problem="no 'moov' box")
    first = _original(recording, 2)
    _original(recording, 3)
    return {"recording": recording, "first": first, "broken": broken}


def test_evidence_manager_can_start_then_open_a_redaction_project(
    client: Client, footage: dict
) -> None:
    sign_in(client, make_user("manager", "evidence-manager"))
    recording, first = footage["recording"], footage["first"]
    page = client.get(f"/recordings/{recording.pk}/").content.decode()
    start = f'<a href="/redaction/?original={first.pk}#start-heading">Start a redaction project</a>'
    assert start in page  # the first playable clip, not the broken one
    assert "Open redaction project" not in page

    form = client.get(f"/redaction/?original={first.pk}").content.decode()
    assert f'<option value="{first.pk}" selected>' in form
    assert 'action="/redaction/new"' in form and "csrfmiddlewaretoken" in form

    created = client.post("/redaction/new", {"original": first.pk, "title": "FOI 2026/7"})
    project = RedactionProject.objects.get(original=first)
    assert created.status_code == 302 and created["Location"] == f"/redaction/{project.pk}/"

    page = client.get(f"/recordings/{recording.pk}/").content.decode()
    assert f'<a href="/redaction/{project.pk}/">Open redaction project “FOI 2026/7”</a>' in page
    assert start in page  # another project (another clip, other settings) can still start


def test_redaction_list_offers_a_chosen_clip_beyond_the_newest_shown(
    client: Client, footage: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from overt.redaction import views

    monkeypatch.setattr(views, "ORIGINALS_SHOWN", 1)
    sign_in(client, make_user("manager", "evidence-manager"))
    first = footage["first"]
    form = client.get(f"/redaction/?original={first.pk}").content.decode()
    assert f'<option value="{first.pk}" selected>' in form
    for bad in ("99999", "x", "1" * 40, footage["broken"].pk):  # unknown, junk, not playable
        assert client.get(f"/redaction/?original={bad}").status_code == 200


def test_officer_viewing_own_footage_gets_no_redaction_link(client: Client, footage: dict) -> None:
    recording = footage["recording"]
    sign_in(client, make_user("asha", "officer", officer="MP1"))
    response = client.get(f"/recordings/{recording.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/redaction/" not in page and "redaction project" not in page
    assert recording.title in page
