"""Moving a recording between incidents never moves who may see it (issue 11, item 1).

A supervisor used to lift a post-incident lock with PATCH {"incident": ""}: afterwards the
involved officer could watch the footage and the assigned investigator lost it.
"""

from __future__ import annotations

import json

import pytest
from access_support import incident, people, recording
from django.test import Client

from overt.access import grants, identity, services
from overt.access.matrix import Action
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Recording
from overt.testing.access import make_user, sign_in

BY = Actor.system("test")


@pytest.fixture
def scene(db) -> dict:
    officers = people()
    pim = make_user("pim", "evidence-manager")
    shooting = incident("CAD 1/SHOOT")
    rec = recording(officers["MP1"], "Shooting footage", incident=shooting)
    grants.start_post_incident(shooting, officers=[officers["MP1"]], manager=pim, by=BY)
    investigator = make_user("iopc", "investigator")
    grants.assign(investigator, by=BY, incident=shooting)
    bravo = incident("CAD 2/BRAVO")
    bravo_investigator = make_user("bravo-inv", "investigator")
    grants.assign(bravo_investigator, by=BY, incident=bravo)
    return {
        "rec": rec,
        "pim": pim,
        "officer": make_user("pc-one", "officer", officer=officers["MP1"]),
        "supervisor": make_user("sgt", "supervisor", team="Alpha"),
        "other_manager": make_user("em2", "evidence-manager"),
        "investigator": investigator,
        "bravo_investigator": bravo_investigator,
        "bravo": bravo,
    }


def _patch(client: Client, user, rec: Recording, body: dict):  # type: ignore[no-untyped-def]
    sign_in(client, user)
    return client.patch(
        f"/api/recordings/{rec.pk}/", {**body, "reason": "tidy up"}, content_type="application/json"
    )


def _may(user, rec: Recording, action: Action) -> bool:  # type: ignore[no-untyped-def]
    identity.forget(user)
    return services.allowed(user, action, Recording.objects.get(pk=rec.pk))


@pytest.mark.parametrize("target", ["", None, "CAD 2/BRAVO", "CAD 9/NEW"])
def test_supervisor_cannot_lift_a_post_incident_lock(client: Client, scene, target) -> None:
    rec = scene["rec"]
    body = {"incident": target, "notes": "moved"}
    if target == "CAD 9/NEW":
        body["incident_title"] = "A new one"
    response = _patch(client, scene["supervisor"], rec, body)
    assert response.status_code == 403, response.content
    assert "post-incident" in response.json()["detail"] or "who may see" in response.json()["detail"]
    after = Recording.objects.get(pk=rec.pk)
    assert after.incident.reference == "CAD 1/SHOOT" and after.notes == ""  # all rolled back
    assert not _may(scene["officer"], rec, Action.STREAM)
    assert _may(scene["investigator"], rec, Action.STREAM)
    assert not _may(scene["bravo_investigator"], rec, Action.LIST)
    refused = CustodyEntry.objects.filter(action="access-refused", actor="user:sgt").last()
    details = json.loads(refused.entry)["details"]
    assert details["change"] == "incident-move" and details["from"] == "CAD 1/SHOOT"


def test_only_the_post_incident_manager_may_move_footage_out(client: Client, scene) -> None:
    rec = scene["rec"]
    refused = _patch(client, scene["other_manager"], rec, {"incident": ""})
    assert refused.status_code == 403
    assert "Post Incident Manager" in refused.json()["detail"]
    assert Recording.objects.get(pk=rec.pk).incident is not None

    moved = _patch(Client(), scene["pim"], rec, {"incident": "CAD 2/BRAVO"})
    assert moved.status_code == 200, moved.content
    assert _may(scene["officer"], rec, Action.STREAM)  # the manager's explicit choice
    assert _may(scene["bravo_investigator"], rec, Action.LIST)
    change = json.loads(CustodyEntry.objects.filter(action="permission-change").last().entry)
    assert change["actor"] == {"kind": "user", "id": "pim"}
    assert change["justification"] == "tidy up"
    expected = {
        "change": "incident-move",
        "from": "CAD 1/SHOOT",
        "to": "CAD 2/BRAVO",
        "assigned_gained": ["bravo-inv"],
        "assigned_lost": ["iopc"],
        "unlocked": ["MP1"],
        "locked": [],
    }
    assert {key: change["details"][key] for key in expected} == expected


def test_a_move_that_changes_no_access_needs_no_grant(client: Client, scene) -> None:
    officers = people()
    plain = recording(officers["MP2"], "Plain footage", incident=incident("CAD 3/PLAIN"))
    moved = _patch(
        client, scene["supervisor"], plain, {"incident": "CAD 4/NEW", "incident_title": "Other"}
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["changed"] == ["incident"]
    assert not CustodyEntry.objects.filter(action="permission-change", actor="user:sgt").exists()
    # ...but not into an incident whose assignments would widen it.
    widened = _patch(client, scene["supervisor"], plain, {"incident": "CAD 2/BRAVO"})
    assert widened.status_code == 403
    assert Recording.objects.get(pk=plain.pk).incident.reference == "CAD 4/NEW"
