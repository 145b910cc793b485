"""Cases through the API (the contract outside tools rely on), the case relation of the
access matrix, holds, do-not-disclose, and the custody entries each change leaves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cases_support import scene, still_of
from django.test import Client

from overt.access.services import Action, allowed, visible_recordings
from overt.cases.models import Case, CaseItem
from overt.custody.models import CustodyEntry
from overt.retention.models import Hold
from overt.testing.access import sign_in


@pytest.fixture
def world(db, clips: dict[str, Path], tmp_path: Path):  # type: ignore[no-untyped-def]
    return scene(clips, tmp_path)


def _case(client: Client, reference: str = "01YE1234526") -> dict:
    response = client.post(
        "/api/cases/",
        {"reference": reference, "title": "Robbery, High St"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_an_evidence_officer_builds_a_case_from_several_incidents(world) -> None:
    client = sign_in(Client(), world.manager)
    case = _case(client)
    assert isinstance(case["id"], int) and case["reference"] == "01YE1234526"
    for rec in world.recordings:  # two incidents
        response = client.post(
            f"/api/cases/{case['id']}/items/",
            {"recording": rec.pk},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["recording"] == rec.pk
    body = client.get(f"/api/cases/{case['id']}/").json()
    assert sorted(i["recording"] for i in body["items"]) == sorted(r.pk for r in world.recordings)
    assert {r.incident.reference for r in world.recordings} == {"CAD 100/20NOV", "CAD 200/21NOV"}
    # An open case holds its footage, through the retention app's own holds.
    holds = Hold.objects.filter(kind="case", reference="01YE1234526", released_at__isnull=True)
    assert sorted(h.recording_id for h in holds) == sorted(r.pk for r in world.recordings)
    # Each addition is on each original's own custody history.
    for rec in world.recordings:
        sha = rec.originals.get().sha256
        added = [
            json.loads(e.entry)
            for e in CustodyEntry.objects.filter(action="case-change", object_sha256=sha)
        ]
        assert [e["details"]["change"] for e in added] == ["item-added"]
        assert added[0]["actor"]["id"] == "em"


def test_bad_input_is_a_problem_not_a_500(world) -> None:
    client = sign_in(Client(), world.manager)
    case = _case(client)
    assert (
        client.post(
            "/api/cases/",
            {"reference": "01YE1234526", "title": "again"},
            content_type="application/json",
        ).status_code
        == 409
    )
    assert (
        client.post(
            "/api/cases/", {"title": "no reference"}, content_type="application/json"
        ).status_code
        == 400
    )
    for body in ({}, {"recording": 987654}, {"recording": "x"}):
        response = client.post(
            f"/api/cases/{case['id']}/items/", body, content_type="application/json"
        )
        assert response.status_code in (400, 404)
        assert response["Content-Type"].startswith("application/problem+json")
    added = client.post(
        f"/api/cases/{case['id']}/items/",
        {"recording": world.recordings[0].pk},
        content_type="application/json",
    )
    assert added.status_code == 201
    again = client.post(
        f"/api/cases/{case['id']}/items/",
        {"recording": world.recordings[0].pk},
        content_type="application/json",
    )
    assert again.status_code == 409
    assert CaseItem.objects.filter(case_id=case["id"]).count() == 1


def test_access_given_on_a_case_extends_to_its_items_through_the_matrix(world) -> None:
    client = sign_in(Client(), world.manager)
    case = _case(client)
    rec = world.recordings[1]
    assert not allowed(world.investigator, Action.LIST, rec)
    client.post(
        f"/api/cases/{case['id']}/items/", {"recording": rec.pk}, content_type="application/json"
    )
    member = client.post(
        f"/api/cases/{case['id']}/members/",
        {"user": "det", "part": "member"},
        content_type="application/json",
    )
    assert member.status_code == 201
    for action in (Action.LIST, Action.STREAM, Action.DOWNLOAD, Action.EXPORT, Action.EDIT):
        assert allowed(world.investigator, action, rec), action
    assert not allowed(world.investigator, Action.REDACT, rec)  # not in the case cell
    assert list(visible_recordings(world.investigator)) == [rec]
    # A prosecutor put on the case with an expiry: watch and download, no export.
    client.post(
        f"/api/cases/{case['id']}/members/",
        {"user": "cps", "part": "prosecutor", "expires_at": "2099-01-01T00:00:00Z"},
        content_type="application/json",
    )
    assert allowed(world.prosecutor, Action.STREAM, rec)
    assert not allowed(world.prosecutor, Action.EXPORT, rec)
    # Others see neither the case nor its items.
    other = sign_in(Client(), world.outsider)
    assert other.get(f"/api/cases/{case['id']}/").status_code == 404
    assert not allowed(world.outsider, Action.LIST, rec)
    # Removing the item ends the relation (and releases the case's hold).
    item = CaseItem.objects.get(case_id=case["id"], recording=rec)
    response = client.patch(
        f"/api/cases/{case['id']}/items/{item.pk}/",
        {"remove": True, "reason": "not relevant"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert not allowed(world.investigator, Action.LIST, rec)
    assert not Hold.objects.filter(recording=rec, released_at__isnull=True).exists()


def test_only_case_managers_open_cases_and_only_editable_footage_joins(world) -> None:
    prosecutor = sign_in(Client(), world.prosecutor)
    response = prosecutor.post(
        "/api/cases/", {"reference": "X1", "title": "t"}, content_type="application/json"
    )
    assert response.status_code == 403
    investigator = sign_in(Client(), world.investigator)
    case = _case(investigator, "INV-1")  # investigators open cases (manage-cases)...
    response = investigator.post(
        f"/api/cases/{case['id']}/items/",
        {"recording": world.recordings[0].pk},
        content_type="application/json",
    )
    assert response.status_code == 404  # ...but add only footage they may edit
    assert not Case.objects.get(pk=case["id"]).items.exists()


def test_do_not_disclose_and_derivatives(world) -> None:
    client = sign_in(Client(), world.manager)
    case = _case(client)
    rec = world.recordings[0]
    still = still_of(rec)
    added = client.post(
        f"/api/cases/{case['id']}/items/", {"derivative": still.pk}, content_type="application/json"
    )
    assert added.status_code == 201 and added.json()["kind"] == "still"
    item = added.json()["id"]
    no_reason = client.patch(
        f"/api/cases/{case['id']}/items/{item}/",
        {"do_not_disclose": True, "reason": ""},
        content_type="application/json",
    )
    assert no_reason.status_code == 400
    marked = client.patch(
        f"/api/cases/{case['id']}/items/{item}/",
        {"do_not_disclose": True, "reason": "informant visible"},
        content_type="application/json",
    )
    assert marked.status_code == 200 and marked.json()["do_not_disclose"] is True
    entry = json.loads(CustodyEntry.objects.filter(action="case-change").latest("index").entry)
    assert entry["details"]["change"] == "do-not-disclose-set"
    assert entry["justification"] == "informant visible"


def test_documents_are_kept_write_once_and_are_not_uncatalogued(world) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from overt.custody.integrity import _catalogued
    from overt.evidence.store import get_store

    client = sign_in(Client(), world.manager)
    case = _case(client)
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    page = client.post(
        f"/cases/{case['id']}/",
        {"op": "document", "file": SimpleUploadedFile("MG11 statement.pdf", pdf)},
    )
    assert page.status_code == 302
    item = CaseItem.objects.get(case_id=case["id"], kind="document")
    sha = item.document.sha256
    assert b"".join(get_store().read_range(sha)) == pdf
    assert _catalogued([sha]) == {sha}  # the scrub knows whose object it is
    entry = json.loads(CustodyEntry.objects.get(action="case-change", object_sha256=sha).entry)
    assert entry["details"]["change"] == "document-added"
    refused = client.post(
        f"/cases/{case['id']}/",
        {"op": "document", "file": SimpleUploadedFile("run.exe", b"MZ\x90\x00 not a document")},
    )
    assert refused.status_code == 400
    assert CaseItem.objects.filter(case_id=case["id"], kind="document").count() == 1
