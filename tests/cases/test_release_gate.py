"""A redacted copy leaves overt (an outside share, a case bundle) only once its leak check
is clear: every finding marked "not a face" (issue 15). The gate reads the copy's own
manifest (facts["leak_check"]), so it holds whatever app asks."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cases_support import scene
from django.test import Client
from test_sharing import LATER

from overt.evidence.models import Derivative
from overt.evidence.store import get_store
from overt.testing.access import sign_in

REASON = {"category": "Disclosure preparation", "text": "to the CPS"}


def _redacted_copy(original_id: int, findings: list[dict] | None) -> Derivative:
    stored = get_store().put(io.BytesIO(b"redacted copy bytes " + str(findings).encode()))
    facts = {} if findings is None else {"leak_check": {"findings": findings}}
    return Derivative.objects.create(
        original_id=original_id,
        kind=Derivative.Kind.REDACTED,
        sha256=stored.sha256,
        size=stored.size,
        content_type="video/mp4",
        generator="test",
        generator_version="1",
        facts=facts,
    )


@pytest.mark.parametrize(
    ("findings", "leaves"),
    [
        (None, False),  # no leak check at all: never released
        ([{"number": 1, "decision": ""}], False),  # a finding nobody has cleared
        ([{"number": 1, "decision": "fix"}], False),  # found to be a face
        ([], True),  # checked, nothing found
        ([{"number": 1, "decision": "not-a-face"}], True),  # cleared by a reviewer
    ],
)
def test_a_redacted_copy_is_shared_and_bundled_only_once_its_leak_check_is_clear(
    db, clips: dict[str, Path], tmp_path: Path, findings: list[dict] | None, leaves: bool
) -> None:
    world = scene(clips, tmp_path)
    staff = sign_in(Client(), world.manager)
    case = staff.post(
        "/api/cases/",
        {"reference": "URN-LEAK", "title": "Leak gate"},
        content_type="application/json",
    ).json()
    copy = _redacted_copy(world.recordings[0].originals.get().pk, findings)
    added = staff.post(
        f"/api/cases/{case['id']}/items/", {"derivative": copy.pk}, content_type="application/json"
    )
    assert added.status_code == 201, added.content
    share = staff.post(
        "/api/shares/",
        {
            "case": case["id"],
            "recipient_name": "Jane Prosecutor",
            "recipient_email": "jane@cps.example",
            "expires_at": LATER,
        },
        content_type="application/json",
    )
    bundle = staff.post(f"/api/cases/{case['id']}/bundle/", REASON, content_type="application/json")
    if leaves:
        assert share.status_code == 201, share.content
        assert bundle.status_code == 200, bundle.content
    else:
        assert share.status_code == 409, share.content
        assert "leak-check" in share.json()["detail"]
        assert bundle.status_code == 409, bundle.content
