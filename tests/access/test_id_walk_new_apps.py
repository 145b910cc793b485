"""The ID walk's second half: the routes of the apps that landed this session (cases and
sharing, oversight, fleet, transcripts, the portal's pages, redaction's leak findings and
their API).

The scene, the probes and the walk are test_id_walk's; here the scene gains one object of
each new kind, tied to the walked recording where the object has a recording, and each
role asks about it and about an id that names nothing. test_id_walk's
`test_every_route_is_walked` counts these routes as walked. The capture manifest route
takes a device token, not a session: it is walked in tests/uploads/test_upload_id_walk.py.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from access_support import START
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from test_id_walk import MISSING, REASON, ROLES, TITLE, Probe, _actor, target, walk

from overt.access import grants
from overt.access.matrix import Action, Capability, Role, has_capability
from overt.access.services import allowed
from overt.cases import items
from overt.cases import services as cases
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Derivative
from overt.oversight.models import Complaint, ComplaintLink, ReviewDraw
from overt.redaction.models import LeakFinding, Render
from overt.retention.models import DeletionRequest, Disposal, Hold
from overt.testing.access import sign_in
from overt.transcripts.models import TranscriptVersion

__all__ = ["WALK_NEW_APPS", "target"]  # target: the scene fixture, shared

MANAGE_USERS, MANAGE_TOKENS = Capability.MANAGE_USERS, Capability.MANAGE_TOKENS
COMPLAINTS, FLEET = Capability.MANAGE_COMPLAINTS, Capability.MANAGE_FLEET
RETENTION = Capability.MANAGE_RETENTION
WALK_NEW_APPS: dict[str, list[Probe]] = {
    # Cases: evidence managers see every case (manage-access), others the cases they are on.
    "case": [
        Probe("get", "/cases/{id}/", "case", capability=Capability.MANAGE_ACCESS),
        Probe(
            "post",
            "/cases/{id}/",
            "case",
            {"op": "close", "reason": "x"},
            capability=Capability.MANAGE_ACCESS,
        ),
    ],
    "case-share": [Probe("get", "/cases/{id}/share", "case", capability=Capability.MANAGE_ACCESS)],
    "case-bundle": [
        Probe("post", "/cases/{id}/bundle", "case", REASON, capability=Capability.MANAGE_ACCESS)
    ],
    "api-case": [Probe("get", "/api/cases/{id}/", "case", capability=Capability.MANAGE_ACCESS)],
    "api-case-items": [
        Probe(
            "post",
            "/api/cases/{id}/items/",
            "case",
            {"recording": 1},
            json=True,
            capability=Capability.MANAGE_ACCESS,
        ),
    ],
    "api-case-item": [
        Probe(
            "patch",
            "/api/cases/{id}/items/{item}/",
            "case",
            {"remove": True, "reason": "x"},
            json=True,
            capability=Capability.MANAGE_ACCESS,
        ),
        Probe(
            "patch",
            "/api/cases/{case}/items/{id}/",
            "case-item",
            {"remove": True, "reason": "x"},
            json=True,
            capability=Capability.MANAGE_ACCESS,
        ),
    ],
    "api-case-documents": [
        Probe("get", "/api/cases/{id}/documents/", "case", capability=Capability.MANAGE_ACCESS),
        Probe("post", "/api/cases/{id}/documents/", "case", {"file": b"%PDF-1.4\n%%EOF\n"},
              capability=Capability.MANAGE_ACCESS),
    ],
    "case-document": [
        Probe("get", "/cases/{id}/documents/{item}", "case", capability=Capability.MANAGE_ACCESS),
        Probe("get", "/cases/{case}/documents/{id}", "case-document",
              capability=Capability.MANAGE_ACCESS),
    ],
    "api-case-document-content": [
        Probe("get", "/api/cases/{id}/documents/{item}/content/", "case",
              capability=Capability.MANAGE_ACCESS),
        Probe("get", "/api/cases/{case}/documents/{id}/content/", "case-document",
              capability=Capability.MANAGE_ACCESS),
    ],
    "api-case-member": [
        Probe("delete", "/api/cases/{id}/members/1/", "case", capability=Capability.MANAGE_ACCESS),
        Probe("delete", "/api/cases/{case}/members/{id}/", "case-member",
              capability=Capability.MANAGE_ACCESS),
    ],
    "api-case-close": [
        Probe("post", "/api/cases/{id}/close/", "case", {"reason": "walk"}, json=True,
              capability=Capability.MANAGE_ACCESS),
    ],
    "api-case-members": [
        Probe("get", "/api/cases/{id}/members/", "case", capability=Capability.MANAGE_ACCESS),
        Probe(
            "post",
            "/api/cases/{id}/members/",
            "case",
            {"user": "keeper", "part": "member"},
            json=True,
            capability=Capability.MANAGE_ACCESS,
        ),
    ],
    "api-case-bundle": [
        Probe(
            "post",
            "/api/cases/{id}/bundle/",
            "case",
            REASON,
            json=True,
            capability=Capability.MANAGE_ACCESS,
        ),
    ],
    # Outside shares: only holders of share-outside see any.
    "share": [
        Probe("get", "/shares/{id}/", "share", capability=Capability.SHARE_OUTSIDE),
        Probe(
            "post", "/shares/{id}/", "share", {"reason": "x"}, capability=Capability.SHARE_OUTSIDE
        ),
    ],
    "share-receipt": [
        Probe("get", f"/shares/{{id}}/receipt.{fmt}", "share", capability=Capability.SHARE_OUTSIDE)
        for fmt in ("json", "pdf")
    ],
    "api-share-revoke": [
        Probe(
            "post",
            "/api/shares/{id}/revoke/",
            "share",
            {},
            json=True,
            capability=Capability.SHARE_OUTSIDE,
        ),
    ],
    "api-share-receipt": [
        Probe("get", "/api/shares/{id}/receipt/", "share", capability=Capability.SHARE_OUTSIDE)
    ],
    "api-share-receipt-pdf": [
        Probe("get", "/api/shares/{id}/receipt.pdf", "share", capability=Capability.SHARE_OUTSIDE)
    ],
    # Transcripts are the footage's words: they need what playing it needs.
    "transcript-vtt": [Probe("get", "/transcripts/originals/{id}.vtt", "original", action=Action.STREAM)],
    "transcript-words": [Probe("get", "/transcripts/originals/{id}.json", "original", action=Action.STREAM)],
    "transcript-api": [
        Probe("get", "/api/originals/{id}/transcript/", "original", action=Action.STREAM),
        Probe("post", "/api/originals/{id}/transcript/", "original",
              {"changes": {"0": "x"}, "note": "walk"}, json=True, action=Action.EDIT),
    ],
    # Redaction's review pages, under a project of the walked recording.
    "redaction-transcript-words": [Probe("post", "/redaction/{id}/audio/words", "project")],
    "redaction-view-reason": [Probe("post", "/redaction/{id}/view-reason", "project")],
    "redaction-tracks-bulk": [Probe("post", "/redaction/{id}/tracks/bulk", "project")],
    "redaction-finding-thumb": [
        Probe("get", "/redaction/{id}/renders/{render}/findings/{finding}/thumb.jpg", "project"),
    ],
    "redaction-finding-decide": [
        Probe("post", "/redaction/{id}/renders/{render}/findings/{finding}/decide", "project",
              {"decision": "not-a-face"}),
    ],
    # ... and their API (the same service and access rules as the page).
    "api-redaction-findings": [
        Probe("get", "/api/redaction/{id}/renders/{render}/findings/", "project"),
    ],
    "api-redaction-finding-decision": [
        Probe("post", "/api/redaction/{id}/renders/{render}/findings/{finding}/decision/",
              "project", {"decision": "not-a-face"}, json=True),
    ],
    "api-redaction-unmasked": [Probe("get", "/api/redaction/{id}/unmasked/", "project")],
    # The portal's people pages and the custody browser: capabilities, not recordings.
    "access-user-action": [
        Probe("post", "/access/users/{id}/disable", "user", capability=MANAGE_USERS)
    ],
    "access-token-revoke": [
        Probe("post", "/access/tokens/{id}/revoke", "token", capability=MANAGE_TOKENS)
    ],
    "custody-entry": [
        Probe("get", "/custody/entries/{id}/", "custody-entry", capability=Capability.READ_CUSTODY)
    ],
    # Oversight: complaints and supervisors' review items.
    "oversight-complaint": [
        Probe("get", "/oversight/complaints/{id}/", "complaint", capability=COMPLAINTS),
    ],
    "api-complaint-links": [
        Probe("post", "/api/complaints/{id}/links/", "complaint", {"recording": 1}, json=True,
              capability=COMPLAINTS),
    ],
    "api-complaint-close": [
        Probe("post", "/api/complaints/{id}/close/", "complaint",
              {"closed_on": "2026-01-02", "outcome": "x"}, json=True, capability=COMPLAINTS),
    ],
    "api-review-item": [
        # A reviewer reviews only sampled recordings it may see: walked for every role.
        Probe("post", "/api/review/items/{id}/", "review-item", {"codes": []}, json=True),
    ],
    # Fleet: cameras by serial, and attributing an unattributed recording.
    "fleet-device": [Probe("get", "/fleet/devices/{id}/", "device", capability=FLEET)],
    "api-device-assign": [
        Probe("post", "/api/devices/{id}/assign/", "device", {"officer": "MP1"}, json=True,
              capability=FLEET),
    ],
    "api-device-checkin": [
        Probe("post", "/api/devices/{id}/check-in/", "device", {}, json=True, capability=FLEET)
    ],
    "api-fleet-attribute": [
        Probe("post", "/api/fleet/unattributed/{id}/attribute/", "recording", {"officer": "MP1"},
              json=True, capability=FLEET),
    ],
    # Pages that take the object's id in the query or the form, not the path.
    "custody-report": [
        Probe("get", "/custody/report?recording={id}&format=json", "recording", action=Action.AUDIT)
    ],
    "retention-holds": [
        Probe("post", "/retention/holds/", "recording", {"reason": "walk"}, field="recording",
              capability=RETENTION),
    ],
    "retention-recycle": [
        Probe("post", "/retention/recycle-bin/", "recording", {"reason": "walk"},
              field="recording", capability=RETENTION),
    ],
    "retention-deletion": [
        Probe("post", "/retention/early-deletion/", "recording", {"reason": "walk"},
              field="recording", capability=RETENTION),
    ],
    "fleet-unattributed": [
        Probe("post", "/fleet/unattributed/", "recording", {"officer": "MP1"}, field="recording",
              capability=FLEET),
    ],
    "fleet-kiosk": [
        Probe("post", "/fleet/kiosk/", "device", {"form": "checkin"}, field="camera_tag",
              capability=Capability.USE_KIOSK),
    ],
    "device-tokens-revoke": [
        Probe("post", "/devices/tokens/revoke", "device", field="device", capability=MANAGE_TOKENS)
    ],
    "oversight-review": [  # reviewing needs the sampled recording to be visible: every role
        Probe("post", "/oversight/review/", "review-item", {"review": "1"}, field="item"),
    ],
}  # fmt: skip


# The roles that hold a capability on complaints, fleet and retention routes, asked about
# a recording they may not see through the route that is theirs: linking it to a
# complaint, attributing it, holding it, binning it, deleting it early. Each must answer
# as for a recording that does not exist, and change nothing.
WALK_HOLDERS: dict[str, list[Probe]] = {
    "api-complaint-links": [
        Probe("post", "/api/complaints/{complaint}/links/", "recording", {}, json=True,
              field="recording", holders_of=COMPLAINTS),
    ],
    "oversight-complaint": [
        Probe("post", "/oversight/complaints/{complaint}/", "recording", {"link": "1"},
              field="recording", holders_of=COMPLAINTS),
    ],
    "api-fleet-attribute": [
        Probe("post", "/api/fleet/unattributed/{id}/attribute/", "recording", {"officer": "MP1"},
              json=True, holders_of=FLEET),
    ],
    "retention-holds": [
        Probe("post", "/retention/holds/", "recording", {"reason": "walk"}, field="recording",
              holders_of=RETENTION),
    ],
    "retention-recycle": [
        Probe("post", "/retention/recycle-bin/", "recording", {"reason": "walk"},
              field="recording", holders_of=RETENTION),
    ],
    "retention-deletion": [
        Probe("post", "/retention/early-deletion/", "recording", {"reason": "walk"},
              field="recording", holders_of=RETENTION),
    ],
}  # fmt: skip
# Pages of those routes that list footage: a holder sees the page, never the recording.
HOLDER_PAGES = {
    COMPLAINTS: ["/oversight/complaints/CMP/WALK/", "/oversight/complaints/"],
    FLEET: ["/fleet/devices/CAM-ACCESS/", "/fleet/unattributed/", "/fleet/"],
    RETENTION: ["/retention/holds/", "/retention/recycle-bin/", "/retention/early-deletion/"],
}


@pytest.fixture
def scene(target: dict) -> dict:
    """test_id_walk's scene, plus one object of each new kind."""
    rec, original, ids = target["recording"], target["original"], dict(target["ids"])
    keeper = get_user_model().objects.get(username="keeper")
    words = Derivative.objects.create(
        original=original, kind="transcript", sha256="7a".ljust(64, "7"), size=1,
        content_type="application/json", generator="test", generator_version="1",
    )  # fmt: skip
    TranscriptVersion.objects.create(
        original=original, number=1, derivative=words, status="ok", duration_s=1.0,
        text=TITLE, words=[[TITLE, 0.0, 1.0, 0.9]],
    )  # fmt: skip
    project = original.redaction_projects.get()
    render = Render.objects.create(project=project, number=1, requested_by="keeper")
    LeakFinding.objects.create(
        render=render, number=1, start_s=0, end_s=1, x1=0, y1=0, x2=1, y2=1, score=0.9,
        thumbnail=b"\xff\xd8walk",
    )  # fmt: skip
    token, _ = grants.create_token(keeper, "walked", ["list"], by=Actor.system("test"))
    complaint = Complaint.objects.create(
        reference="CMP/WALK", received_on=date(2026, 1, 1), occurred_from=START,
        occurred_to=START + timedelta(hours=1), summary=TITLE, officers=["MP3"],
        registered_by="keeper", registered_at=START,
    )  # fmt: skip
    draw = ReviewDraw.objects.create(
        team="Bravo", week=date(2026, 1, 5), seed="walk", size=1, candidates=1,
        drawn_by="keeper", drawn_at=START,
    )  # fmt: skip
    item = draw.items.create(recording=rec, weight=1.0)
    case = cases.case_for(keeper, target["ids"]["case"])
    paper = items.add_document(keeper, case, "walk.pdf", io.BytesIO(b"%PDF-1.4\n%%EOF\n"))
    member = cases.add_member(keeper, case, "keeper", "member")
    entry = CustodyEntry.objects.filter(object_sha256=original.sha256).order_by("index")
    ids |= {
        "render": render.number, "finding": 1, "user": keeper.pk, "token": token.pk,
        "custody-entry": (entry.first() or CustodyEntry.objects.order_by("index").first()).index,
        "complaint": complaint.reference, "review-item": item.pk,
        "case-document": paper.pk, "case-member": member.pk,
        "device": "CAM-ACCESS",  # the camera that filmed the walked recording (access_support)
    }  # fmt: skip
    return {**target, "ids": ids}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: str(r or "no-role"))
def test_no_role_learns_of_new_app_objects_it_may_not_see(scene: dict, role: Role | None) -> None:
    user = _actor(role)
    client = sign_in(Client(), user)
    failures = walk(client, user, role, WALK_NEW_APPS, scene["ids"], scene["recording"])
    assert not failures, f"{role}:\n" + "\n".join(failures)


HOLDERS = [r for r in Role if any(has_capability(r, c) for c in HOLDER_PAGES)]


@pytest.mark.parametrize("role", HOLDERS, ids=str)
def test_holders_of_a_capability_learn_nothing_of_footage_they_may_not_see(
    scene: dict, role: Role
) -> None:
    user = _actor(role)
    client = sign_in(Client(), user)
    rec = scene["recording"]
    assert not allowed(user, Action.LIST, rec)  # the walked recording is not theirs
    before = {
        "holds": Hold.objects.filter(recording=rec).count(),
        "links": ComplaintLink.objects.filter(recording=rec).count(),
        "officer": rec.officer_id,
        "disposals": Disposal.objects.filter(recording_ref=rec.pk).count(),
        "deletions": DeletionRequest.objects.count(),
    }
    failures = walk(client, user, role, WALK_HOLDERS, scene["ids"], rec)
    if has_capability(role, COMPLAINTS):  # a new complaint proposes only footage they know
        registered = client.post(
            "/api/complaints/",
            {"reference": "CMP/WALK2", "received_on": "2026-01-01", "summary": "walk",
             "occurred_from": START.isoformat(), "occurred_to": (START + timedelta(hours=1))
             .isoformat(), "officers": ["MP3"]},
            content_type="application/json",
        )  # fmt: skip
        assert registered.status_code == 201, registered.content
        if rec.pk in registered.json()["proposed"]:
            failures.append("POST /api/complaints/ proposes the recording")
    if has_capability(role, FLEET):  # the worklist's form answers with a message
        said = []
        for value in (rec.pk, MISSING):
            fresh = sign_in(Client(), user)  # messages wait in the session until shown
            answer = fresh.post("/fleet/unattributed/", {"recording": value, "officer": "MP1"})
            told = [str(m).replace(str(value), "N") for m in get_messages(answer.wsgi_request)]
            said.append((answer.status_code, told))
        if said[0] != said[1]:
            failures.append(f"fleet-unattributed post: {said[0]} vs missing {said[1]}")
    for capability, pages in HOLDER_PAGES.items():
        if not has_capability(role, capability):
            continue
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, (page, response.status_code)
            if TITLE in response.content.decode(errors="replace"):
                failures.append(f"{page} names the recording")
    rec.refresh_from_db()
    after = {
        "holds": Hold.objects.filter(recording=rec).count(),
        "links": ComplaintLink.objects.filter(recording=rec).count(),
        "officer": rec.officer_id,
        "disposals": Disposal.objects.filter(recording_ref=rec.pk).count(),
        "deletions": DeletionRequest.objects.count(),
    }
    if after != before:
        failures.append(f"changed: {before} -> {after}")
    assert not failures, f"{role}:\n" + "\n".join(failures)
