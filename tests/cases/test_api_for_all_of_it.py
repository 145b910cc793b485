"""The rest of issue 17's "API for all of it": "Shared with me" (GET /api/shared-with-me/),
a share's receipt as PDF (GET /api/shares/{id}/receipt.pdf), a case document's bytes
(GET /api/cases/{id}/documents/{item}/content/, and the case page's link), and taking
someone off a case (DELETE /api/cases/{id}/members/{member}/, the case page, the CLI).
Each goes through the service the page uses; refusals are problem+json, never a 500."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from overt.access import grants
from overt.access.matrix import Role
from overt.cases import documents
from overt.cases.models import CaseLog, CaseMember
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Device, Officer, Recording
from overt.evidence.store import get_store
from overt.evidence.store.base import ObjectLocked
from overt.evidence.store.local import LocalStore
from overt.testing.access import make_user, sign_in

# A PDF with a byte run that any re-encoding or text-mode copy would change.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n\x00\xff\r\n\x80binary\ntrailer <<>>\n%%EOF\n"
JSON = "application/json"


@pytest.fixture
def staff(db: None) -> dict[str, Any]:
    em = make_user("em", Role.EVIDENCE_MANAGER)
    manager = sign_in(Client(), em)
    case = manager.post(
        "/api/cases/", {"reference": "01YE7777726", "title": "Burglary, Mill Rd"}, content_type=JSON
    ).json()
    added = manager.post(
        f"/api/cases/{case['id']}/documents/", {"file": SimpleUploadedFile("MG5.pdf", PDF)}
    )
    assert added.status_code == 201, added.content
    make_user("crown", Role.PROSECUTOR)
    return {"manager": manager, "case": case, "document": added.json(), "em": em}


def _problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")


def _last(action: str) -> dict[str, Any]:
    return json.loads(CustodyEntry.objects.filter(action=action).latest("index").entry)


def test_shared_with_me_lists_cases_and_recordings_as_the_page_does(staff: dict) -> None:
    manager, case = staff["manager"], staff["case"]
    crown = sign_in(Client(), make_user("crown2", Role.PROSECUTOR))
    assert crown.get("/api/shared-with-me/").json() == {"cases": [], "recordings": []}
    until = timezone.now() + timedelta(days=20)
    put = manager.post(
        f"/api/cases/{case['id']}/members/",
        {"user": "crown2", "part": "prosecutor", "expires_at": until.isoformat()},
        content_type=JSON,
    )
    assert put.status_code == 201, put.content
    rec = Recording.objects.create(
        title="Doorway",
        officer=Officer.objects.create(number="MP9", name="PC Nine", team="A"),
        device=Device.objects.create(serial="CAM-SWM"),
        trigger_on_at=timezone.now(),
    )
    grantee = CaseMember.objects.get(pk=put.json()["id"]).user
    row = grants.share(rec, grantee, expires_at=until, by=Actor("user", "em"), reason="charging")
    gone = grants.share(rec, grantee, expires_at=until, by=Actor("user", "em"))
    grants.revoke_share(gone, by=Actor("user", "em"))
    answer = crown.get("/api/shared-with-me/")
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert len(data["cases"]) == 1
    shared = data["cases"][0]
    assert shared["case"] == case["id"] and shared["reference"] == "01YE7777726"
    assert shared["part"] == "prosecutor" and shared["shared_by"] == "user:em"
    assert shared["until"] and shared["first_time"] is True and shared["new_items"] == 0
    assert [(r["recording"], r["reason"]) for r in data["recordings"]] == [(rec.pk, "charging")]
    assert data["recordings"][0]["shared_by"] == row.created_by
    page = crown.get("/shared-with-me/").content.decode()
    assert "01YE7777726" in page and "Doorway" in page
    # Opening the case page marks it seen: nothing new until another item comes.
    assert crown.get(f"/cases/{case['id']}/").status_code == 200
    again = crown.get("/api/shared-with-me/").json()["cases"][0]
    assert again["first_time"] is False and again["new_items"] == 0
    more = manager.post(
        f"/api/cases/{case['id']}/documents/", {"file": SimpleUploadedFile("MG6.pdf", PDF)}
    )
    assert more.status_code == 201, more.content
    assert crown.get("/api/shared-with-me/").json()["cases"][0]["new_items"] == 1
    # Someone else sees none of it; no session is refused as problem+json.
    other = sign_in(Client(), make_user("inv", Role.INVESTIGATOR))
    assert other.get("/api/shared-with-me/").json() == {"cases": [], "recordings": []}
    _problem(Client().get("/api/shared-with-me/"), 403)


def test_a_receipt_comes_as_pdf_from_the_api_as_from_the_page(staff: dict) -> None:
    manager, case = staff["manager"], staff["case"]
    made = manager.post(
        "/api/shares/",
        {
            "case": case["id"],
            "recipient_name": "Jane Prosecutor",
            "recipient_email": "jane@cps.example",
            "expires_at": (timezone.now() + timedelta(days=30)).isoformat(),
        },
        content_type=JSON,
    ).json()
    pdf = manager.get(f"/api/shares/{made['id']}/receipt.pdf")
    assert pdf.status_code == 200, pdf.content
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"].endswith('.pdf"') and pdf["Cache-Control"] == "no-store"
    page = manager.get(f"/shares/{made['id']}/receipt.pdf")
    assert page.status_code == 200 and page["Content-Disposition"] == pdf["Content-Disposition"]
    as_json = manager.get(f"/api/shares/{made['id']}/receipt/").json()
    page_json = json.loads(manager.get(f"/shares/{made['id']}/receipt.json").content)
    assert as_json["share"] == page_json["share"] and as_json["items"] == page_json["items"]
    # Each receipt handed out is an export of the share, logged; the later receipt's
    # checkpoint covers the earlier entries.
    exports = [
        (e.index, json.loads(e.entry))
        for e in CustodyEntry.objects.filter(action="export").order_by("index")
    ]
    exports = [(i, e) for i, e in exports if e["details"].get("what") == "share receipt"]
    assert [e["details"]["format"] for _, e in exports] == ["pdf", "pdf", "json", "json"]
    assert all(e["object"]["ids"] == {"share": as_json["share"]["mark"]} for _, e in exports)
    assert as_json["checkpoint"]["size"] > exports[2][0]
    assert manager.head(f"/shares/{made['id']}/receipt.pdf").status_code == 405
    _problem(manager.get(f"/api/shares/{'0' * 32}/receipt.pdf"), 404)
    _problem(manager.get("/api/shares/not-hex/receipt.pdf"), 404)
    crown = sign_in(Client(), make_user("crown3", Role.PROSECUTOR))
    refused = crown.get(f"/api/shares/{made['id']}/receipt.pdf")
    assert refused.status_code in (403, 404) and refused["Content-Type"].startswith(
        "application/problem+json"
    )


def test_a_document_downloads_byte_for_byte_after_a_custody_entry(staff: dict) -> None:
    manager, case, doc = staff["manager"], staff["case"], staff["document"]
    before = CustodyEntry.objects.filter(action="download").count()
    url = f"/api/cases/{case['id']}/documents/{doc['id']}/content/"
    got = manager.get(url)
    assert got.status_code == 200
    body = b"".join(got.streaming_content)
    assert body == PDF and hashlib.sha256(body).hexdigest() == doc["document_file"]["sha256"]
    assert got["Content-Type"] == "application/pdf" and got["Content-Length"] == str(len(PDF))
    assert CustodyEntry.objects.filter(action="download").count() == before + 1
    entry = _last("download")
    row = CustodyEntry.objects.filter(action="download").latest("index")
    assert row.object_sha256 == doc["document_file"]["sha256"]
    assert entry["details"]["case"] == case["id"] and entry["details"]["item"] == doc["id"]
    assert got["X-Overt-Custody-Entries"] == str(
        CustodyEntry.objects.filter(action="download").latest("index").index
    )
    assert CaseLog.objects.filter(case_id=case["id"], action="download").count() == 1
    # The case page links it, and its link gives the same bytes and its own entry.
    page = manager.get(f"/cases/{case['id']}/").content.decode()
    link = f"/cases/{case['id']}/documents/{doc['id']}"
    assert f'href="{link}"' in page
    assert b"".join(manager.get(link).streaming_content) == PDF
    assert CustodyEntry.objects.filter(action="download").count() == before + 2
    # An unknown item or case is 404, as is a case not theirs; none is logged.
    _problem(manager.get(f"/api/cases/{case['id']}/documents/987654/content/"), 404)
    _problem(manager.get(f"/api/cases/987654/documents/{doc['id']}/content/"), 404)
    _problem(manager.head(url), 405)  # a HEAD would log a download that sent nothing
    assert manager.head(link).status_code == 405
    outsider = sign_in(Client(), make_user("inv2", Role.INVESTIGATOR))
    _problem(outsider.get(url), 404)
    assert outsider.get(link).status_code == 404
    assert CustodyEntry.objects.filter(action="download").count() == before + 2


def test_a_purged_document_is_gone_with_no_bytes_and_no_entry(
    staff: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    manager, case, doc = staff["manager"], staff["case"], staff["document"]
    try:
        get_store().purge(doc["document_file"]["sha256"])
    except ObjectLocked:  # S3 Object Lock keeps it: read a store that no longer holds it
        monkeypatch.setattr(documents, "get_store", lambda: LocalStore(tmp_path / "emptied"))
    before = CustodyEntry.objects.filter(action="download").count()
    _problem(manager.get(f"/api/cases/{case['id']}/documents/{doc['id']}/content/"), 410)
    assert CustodyEntry.objects.filter(action="download").count() == before


def test_someone_is_taken_off_a_case_from_api_and_page(staff: dict) -> None:
    manager, case = staff["manager"], staff["case"]
    base = f"/api/cases/{case['id']}/members/"
    for name in ("crown", "inv3"):
        if name == "inv3":
            make_user("inv3", Role.INVESTIGATOR)
        put = manager.post(base, {"user": name, "part": "member"}, content_type=JSON)
        assert put.status_code == 201, put.content
    listed = manager.get(base).json()
    ids = {m["user"]: m["id"] for m in listed}
    assert {"crown", "inv3"} <= set(ids)  # beside the case's opener
    crown = sign_in(Client(), CaseMember.objects.get(pk=ids["crown"]).user)
    assert crown.get(f"/api/cases/{case['id']}/").status_code == 200
    _problem(crown.delete(f"{base}{ids['inv3']}/"), 403)  # a prosecutor may not change it
    ended = manager.delete(f"{base}{ids['crown']}/")
    assert ended.status_code == 200, ended.content
    assert ended.json()["user"] == "crown" and ended.json()["ended_at"]
    entry = _last("permission-change")
    assert entry["details"]["change"] == "case-member-ended"
    assert entry["details"]["user"] == "crown"
    _problem(crown.get(f"/api/cases/{case['id']}/"), 404)  # access ends at once
    _problem(manager.delete(f"{base}{ids['crown']}/"), 404)  # already off
    _problem(manager.delete(f"{base}987654/"), 404)
    _problem(manager.delete(f"{base}not-a-number/"), 404)
    # The page's button does the same, on a closed case too (winding the team down).
    manager.post(f"/api/cases/{case['id']}/close/", {"reason": "NFA"}, content_type=JSON)
    page = manager.get(f"/cases/{case['id']}/").content.decode()
    assert 'value="end-member"' in page and f'value="{ids["inv3"]}"' in page
    done = manager.post(f"/cases/{case['id']}/", {"op": "end-member", "member": ids["inv3"]})
    assert done.status_code == 302
    assert not CaseMember.active().filter(pk__in=ids.values(), user__username="inv3").exists()
    bad = manager.post(f"/cases/{case['id']}/", {"op": "end-member", "member": "x"})
    assert bad.status_code == 404
    assert _last("permission-change")["details"]["user"] == "inv3"
