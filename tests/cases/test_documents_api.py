"""Documents (PDF, pictures) uploaded to a case through the API (issue 17, "API for all
of it"): POST /api/cases/{id}/documents/ as multipart/form-data, sniffed, stored by hash
through the same service as the case page and the CLI, with the same custody entry, and
listed on the case. Every refusal is problem+json and leaves nothing stored or logged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from overt.access.matrix import Role
from overt.cases import items
from overt.cases.models import CaseDocument, CaseItem
from overt.custody.models import CustodyEntry
from overt.evidence.store import get_store
from overt.testing.access import make_user, sign_in

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def people(db: None) -> dict[str, Any]:
    return {
        "manager": make_user("em", Role.EVIDENCE_MANAGER),
        "prosecutor": make_user("cps", Role.PROSECUTOR),
        "outsider": make_user("other-det", Role.INVESTIGATOR),
    }


@pytest.fixture
def case(people: dict[str, Any]) -> dict[str, Any]:
    manager = sign_in(Client(), people["manager"])
    response = manager.post(
        "/api/cases/",
        {"reference": "01YE7777726", "title": "Burglary, Mill Lane"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return {"client": manager, **response.json()}


def _upload(client: Client, case_id: object, name: str, data: bytes, **extra: Any) -> Any:
    return client.post(
        f"/api/cases/{case_id}/documents/", {"file": SimpleUploadedFile(name, data)}, **extra
    )


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def _nothing_kept() -> None:
    assert not CaseDocument.objects.exists()
    assert not CaseItem.objects.filter(kind="document").exists()
    changes = [
        json.loads(e.entry)["details"].get("change")
        for e in CustodyEntry.objects.filter(action="case-change")
    ]
    assert "document-added" not in changes


def test_a_document_is_stored_by_hash_with_the_pages_custody_entry(case: dict) -> None:
    client = case["client"]
    response = _upload(client, case["id"], "MG11 statement.pdf", PDF)
    assert response.status_code == 201, response.content
    item = response.json()
    assert item["kind"] == "document" and item["recording"] is None
    document = item["document_file"]
    assert document["filename"] == "MG11 statement.pdf"
    assert document["content_type"] == "application/pdf" and document["size"] == len(PDF)
    assert b"".join(get_store().read_range(document["sha256"])) == PDF  # byte for byte
    # Listed on the case's own representation, and on its documents.
    on_case = client.get(f"/api/cases/{case['id']}/").json()["items"]
    assert [i["document_file"]["sha256"] for i in on_case] == [document["sha256"]]
    listed = client.get(f"/api/cases/{case['id']}/documents/").json()
    assert [i["id"] for i in listed] == [item["id"]]
    # The same custody entry as the case page's upload, through the same service.
    entry = json.loads(
        CustodyEntry.objects.get(action="case-change", object_sha256=document["sha256"]).entry
    )
    assert entry["actor"] == {"kind": "user", "id": "em"}
    assert entry["details"] == {
        "case": case["id"],
        "reference": "01YE7777726",
        "change": "document-added",
        "item": item["id"],
        "filename": "MG11 statement.pdf",
        "size": len(PDF),
    }
    page = client.post(
        f"/cases/{case['id']}/", {"op": "document", "file": SimpleUploadedFile("plan.png", PNG)}
    )
    assert page.status_code == 302
    by_page = CaseItem.objects.get(kind="document", document__filename="plan.png")
    page_entry = json.loads(CustodyEntry.objects.get(object_sha256=by_page.document.sha256).entry)
    assert set(page_entry["details"]) == set(entry["details"])
    assert page_entry["action"] == entry["action"] == "case-change"


def test_a_file_that_is_not_a_document_is_refused_by_its_bytes(case: dict) -> None:
    client = case["client"]
    # The name and the declared type say PDF; the bytes say a Windows program.
    body = _problem(_upload(client, case["id"], "statement.pdf", b"MZ\x90\x00 program"), 400)
    assert "PDF, JPEG, PNG or TIFF" in body["detail"]
    _problem(_upload(client, case["id"], "empty.pdf", b""), 400)
    no_file = client.post(f"/api/cases/{case['id']}/documents/", {"note": "no file"})
    _problem(no_file, 400)
    as_json = client.post(
        f"/api/cases/{case['id']}/documents/", {"file": "x"}, content_type="application/json"
    )
    _problem(as_json, 415)
    broken = client.post(
        f"/api/cases/{case['id']}/documents/",
        b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF',
        content_type="multipart/form-data; boundary=zz",
    )
    assert broken.status_code == 400 and broken["Content-Type"].startswith(
        "application/problem+json"
    )
    _nothing_kept()


def test_a_document_over_the_limit_is_refused(case: dict, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client = case["client"]
    # A declared length over the limit is refused before the body is read.
    declared = _upload(
        client, case["id"], "huge.pdf", PDF, CONTENT_LENGTH=str(items.MAX_DOCUMENT_BYTES * 2)
    )
    assert "at most" in _problem(declared, 413)["detail"]
    # A body within the declared length but over the limit, counted as it is read.
    monkeypatch.setattr(items, "MAX_DOCUMENT_BYTES", 1024)
    _problem(_upload(client, case["id"], "big.pdf", PDF + b"0" * 2048), 413)
    _nothing_kept()
    monkeypatch.undo()
    assert _upload(client, case["id"], "small.pdf", PDF).status_code == 201


def test_no_access_is_a_problem_and_stores_nothing(case: dict, people: dict) -> None:
    outsider = sign_in(Client(), people["outsider"])
    for case_id in (case["id"], 987654321):  # one the outsider may not see, and none
        _problem(_upload(outsider, case_id, "a.pdf", PDF), 404)
        _problem(outsider.get(f"/api/cases/{case_id}/documents/"), 404)
    # A prosecutor on the case sees it, and its documents, but may not change it.
    case["client"].post(
        f"/api/cases/{case['id']}/members/",
        {"user": "cps", "part": "prosecutor"},
        content_type="application/json",
    )
    prosecutor = sign_in(Client(), people["prosecutor"])
    assert prosecutor.get(f"/api/cases/{case['id']}/documents/").status_code == 200
    _problem(_upload(prosecutor, case["id"], "a.pdf", PDF), 403)
    assert Client().post(f"/api/cases/{case['id']}/documents/").status_code in (401, 403)
    _nothing_kept()
    # A closed case takes no more documents.
    closed = case["client"].post(f"/cases/{case['id']}/", {"op": "close", "reason": "done"})
    assert closed.status_code == 302
    _problem(_upload(case["client"], case["id"], "late.pdf", PDF), 409)
    _nothing_kept()
