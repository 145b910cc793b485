"""The retention pages through the same services as `overt retention`: holds, the
recycle bin, early deletion by two people, policies and categories; each leaves the CLI's
custody entry, and a refusal is shown with 400 and changes nothing."""

from __future__ import annotations

import json

import pytest
from portal_support import client_for, people, recording

from overt.access.matrix import Role
from overt.custody.models import CustodyEntry
from overt.evidence.models import Category
from overt.retention.models import CategoryPolicy, DeletionRequest, Disposal, Hold, RetentionPolicy
from overt.testing.access import make_user

pytestmark = pytest.mark.django_db


def _entries(action: str) -> list[dict]:
    rows = CustodyEntry.objects.filter(action=action).order_by("index")
    return [json.loads(r.entry) for r in rows]


def test_place_and_release_a_hold() -> None:
    manager = client_for(people()[Role.EVIDENCE_MANAGER])
    rec = recording()
    placed = manager.post(
        "/retention/holds/",
        {"recording": rec.pk, "kind": "legal", "reason": "Court order 12", "reference": "T2026"},
    )
    assert placed.status_code == 302
    hold = Hold.objects.get(recording=rec, released_at__isnull=True)
    assert (hold.kind, hold.reference, hold.set_by) == ("legal", "T2026", "user:manager")
    [entry] = _entries("hold-set")
    assert entry["actor"] == {"kind": "user", "id": "manager"}
    assert "Court order 12" in manager.get("/retention/holds/").content.decode()

    released = manager.post(
        "/retention/holds/",
        {"do": "release", "hold": hold.pk, "recording": rec.pk, "reason": "Order lifted"},
    )
    assert released.status_code == 302
    hold.refresh_from_db()
    assert hold.released_by == "user:manager" and hold.release_reason == "Order lifted"
    assert len(_entries("hold-release")) == 1


def test_a_hold_without_a_reason_is_refused_on_the_page() -> None:
    manager = client_for(people()[Role.EVIDENCE_MANAGER])
    rec = recording()
    refused = manager.post(
        "/retention/holds/", {"recording": rec.pk, "kind": "legal", "reason": " "}
    )
    assert refused.status_code == 400
    assert "a hold needs a reason" in refused.content.decode()
    assert not Hold.objects.exists() and not _entries("hold-set")


def test_early_deletion_needs_a_second_person_then_recovers() -> None:
    users = people()
    first = client_for(users[Role.EVIDENCE_MANAGER])
    second = client_for(make_user("manager2", Role.EVIDENCE_MANAGER))
    rec = recording()
    asked = first.post(
        "/retention/early-deletion/",
        {"do": "request", "recording": rec.pk, "reason": "Recorded by mistake"},
    )
    assert asked.status_code == 302
    request = DeletionRequest.objects.get(recording=rec)
    # The requester cannot approve their own request: refused, nothing changes.
    own = first.post(
        "/retention/early-deletion/", {"do": "approve", "request": request.pk, "reason": "mine"}
    )
    assert own.status_code == 400 and "two different people" in own.content.decode()
    request.refresh_from_db()
    assert request.status == DeletionRequest.Status.PENDING
    page = second.get("/retention/early-deletion/").content.decode()
    assert "Recorded by mistake" in page and f'aria-label="Approve request {request.pk}"' in page

    approved = second.post(
        "/retention/early-deletion/", {"do": "approve", "request": request.pk, "reason": "Agreed"}
    )
    assert approved.status_code == 302
    disposal = Disposal.objects.get(recording_ref=rec.pk)
    assert disposal.status == Disposal.Status.RECYCLED
    stages = [e["details"]["stage"] for e in _entries("delete")]
    assert stages[:2] == ["requested", "approved"]

    recovered = second.post(
        "/retention/recycle-bin/",
        {"recording": rec.pk, "reason": "Wrong clip", "keep_until": "2099-01-01"},
    )
    assert recovered.status_code == 302
    disposal.refresh_from_db()
    assert disposal.status == Disposal.Status.RECOVERED


def test_policy_and_category_through_the_page() -> None:
    manager = client_for(people()[Role.EVIDENCE_MANAGER])
    made = manager.post(
        "/retention/policies/",
        {
            "do": "set",
            "name": "stop-search",
            "period": "1y",
            "starts_from": "recorded",
            "at_expiry": "delete",
        },
    )
    assert made.status_code == 302
    assert RetentionPolicy.objects.get(name="stop-search").years == 1
    assigned = manager.post(
        "/retention/policies/",
        {"do": "assign", "category": "Stop and search", "policy": "stop-search"},
    )
    assert assigned.status_code == 302
    link = CategoryPolicy.objects.get(category=Category.objects.get(name="Stop and search"))
    assert link.policy.name == "stop-search" and link.assigned_by == "user:manager"
    assert len(_entries("config-change")) == 2
    bad = manager.post(
        "/retention/policies/",
        {"do": "set", "name": "x", "period": "forever", "at_expiry": "delete"},
    )
    assert bad.status_code == 400 and "not a retention period" in bad.content.decode()


@pytest.mark.parametrize("role", [r for r in Role if r != Role.EVIDENCE_MANAGER])
def test_other_roles_are_refused(role: Role) -> None:
    client = client_for(people()[role])
    for url in (
        "/retention/holds/",
        "/retention/recycle-bin/",
        "/retention/early-deletion/",
        "/retention/policies/",
    ):
        assert client.get(url).status_code == 403
    assert client.post("/retention/holds/", {"recording": 1, "reason": "x"}).status_code == 403
