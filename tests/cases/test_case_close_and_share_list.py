"""The rest of the cases API that the page and CLI already had (issue 17, "API for all of
it"): closing a case (POST /api/cases/{id}/close/) and listing outside shares
(GET /api/shares/), through the same services, refusing as problem+json."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from overt.access.matrix import Role
from overt.cases.models import Case
from overt.custody.models import CustodyEntry
from overt.testing.access import make_user, sign_in

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def staff(db: None) -> dict[str, Any]:
    manager = sign_in(Client(), make_user("em", Role.EVIDENCE_MANAGER))
    case = manager.post(
        "/api/cases/",
        {"reference": "01YE5555526", "title": "Assault, Quay St"},
        content_type="application/json",
    ).json()
    added = manager.post(
        f"/api/cases/{case['id']}/documents/", {"file": SimpleUploadedFile("MG5.pdf", PDF)}
    )
    assert added.status_code == 201, added.content
    return {"manager": manager, "case": case}


def _problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_case_is_closed_with_a_reason_through_the_service(staff: dict) -> None:
    manager, case = staff["manager"], staff["case"]
    url = f"/api/cases/{case['id']}/close/"
    _problem(manager.post(url, {}, content_type="application/json"), 400)
    _problem(manager.post(url, {"reason": " "}, content_type="application/json"), 400)
    outsider = sign_in(Client(), make_user("other", Role.INVESTIGATOR))
    _problem(outsider.post(url, {"reason": "x"}, content_type="application/json"), 404)
    assert Case.objects.get(pk=case["id"]).status == "open"
    closed = manager.post(url, {"reason": "no further action"}, content_type="application/json")
    assert closed.status_code == 200, closed.content
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    entry = json.loads(CustodyEntry.objects.filter(action="case-change").latest("index").entry)
    assert entry["details"]["change"] == "case-closed"
    assert entry["justification"] == "no further action"
    again = manager.post(url, {"reason": "again"}, content_type="application/json")
    _problem(again, 409)


def test_outside_shares_are_listed_without_their_codes(staff: dict) -> None:
    manager, case = staff["manager"], staff["case"]
    made = manager.post(
        "/api/shares/",
        {
            "case": case["id"],
            "recipient_name": "Jane Prosecutor",
            "recipient_email": "jane@cps.example",
            "expires_at": (timezone.now() + timedelta(days=30)).isoformat(),
        },
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    listed = manager.get("/api/shares/")
    assert listed.status_code == 200
    rows = listed.json()
    assert [r["id"] for r in rows] == [made.json()["id"]]
    assert rows[0]["case"] == case["id"] and rows[0]["recipient_name"] == "Jane Prosecutor"
    assert made.json()["code"] not in listed.content.decode()
    assert "code" not in rows[0] and "code_hash" not in rows[0]
    prosecutor = sign_in(Client(), make_user("cps", Role.PROSECUTOR))
    _problem(prosecutor.get("/api/shares/"), 403)  # no share-outside
