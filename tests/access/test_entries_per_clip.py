"""A change to who may see a recording, and a refusal, is in every clip's own history.

Views, downloads and exports already wrote one entry per original (issue 11 item 5).
Permission changes, shares, break-glass and refusals named only the first clip, so the
custody history (and custody report) of a later clip left out who was given or refused it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from overt.access import grants
from overt.access.matrix import Action
from overt.access.services import AccessDenied, check
from overt.custody.services import Actor, entries_for
from overt.evidence.models import Device, Officer, Original, Recording
from overt.testing.access import make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


@pytest.fixture
def two_clips() -> tuple[Recording, list[Original]]:
    officer = Officer.objects.create(number="MP7", name="PC Test")
    recording = Recording.objects.create(
        title="Two clips",
        officer=officer,
        device=Device.objects.create(serial="CAM-7"),
        trigger_on_at=T0,
    )
    clips = [
        Original.objects.create(
            sha256=f"{n:064x}",
            size=10,
            recording=recording,
            filename=f"clip{n}.mp4",
            source=Original.Source.CLI,
            started_at=T0 + timedelta(minutes=n),
            playable=True,
        )
        for n in (1, 2)
    ]
    return recording, clips


def _details(clip: Original, action: str) -> list[dict]:
    return [json.loads(e.entry)["details"] for e in entries_for(clip.sha256) if e.action == action]


def test_permission_changes_and_shares_are_in_every_clips_history(two_clips) -> None:
    recording, clips = two_clips
    manager = Actor("user", "erin")
    prosecutor = make_user("pat", "prosecutor")
    grants.set_access_class(recording, "confidential", by=manager, roles=["evidence-manager"])
    grants.share(recording, prosecutor, expires_at=T0 + timedelta(days=9999), by=manager)
    for clip in clips:
        assert [d["change"] for d in _details(clip, "permission-change")] == ["access-class"]
        assert [d["grantee"] for d in _details(clip, "share")] == ["pat"]
        ids = [json.loads(e.entry)["object"]["ids"] for e in entries_for(clip.sha256)]
        assert all(i == {"original": clip.pk, "recording": recording.pk} for i in ids)


def test_a_refusal_is_in_every_clips_history(two_clips) -> None:
    recording, clips = two_clips
    officer = make_user("otto", "officer")  # not his recording
    with pytest.raises(AccessDenied):
        check(officer, Action.DOWNLOAD, recording)
    for clip in clips:
        refused = _details(clip, "access-refused")
        assert len(refused) == 1 and refused[0]["action"] == "download"
