"""The case page in Debian's Chromium: an evidence officer downloads a case document from
its link (the bytes as stored) and takes someone off the case with the button by their
name; each is a custody entry, and the page stays clean under axe-core."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from browser_checks import axe_violations
from review_support import reviewer, sign_in_page

from overt.access.matrix import Role
from overt.cases import items, services
from overt.cases.models import CaseMember
from overt.custody.models import CustodyEntry
from overt.testing.access import make_user

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n\x00\xff\r\nbinary\ntrailer <<>>\n%%EOF\n"


@pytest.mark.django_db(transaction=True)
def test_case_page_downloads_a_document_and_ends_a_membership(
    live_server, page, tmp_path: Path
) -> None:
    officer, device = reviewer("evidence-officer")
    case = services.create_case(officer, "01YE4242426", "Criminal damage, Park Row")
    paper = items.add_document(officer, case, "MG11 statement.pdf", io.BytesIO(PDF))
    make_user("crown", Role.PROSECUTOR)
    services.add_member(officer, case, "crown", "prosecutor")

    sign_in_page(page, live_server.url, "evidence-officer", device)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert axe_violations(page) == []  # the new link and buttons keep the page WCAG-clean
    with page.expect_download() as caught:
        page.get_by_role("link", name=paper.label).click()
    saved = tmp_path / "got.pdf"
    caught.value.save_as(saved)
    assert saved.read_bytes() == PDF
    entry = json.loads(CustodyEntry.objects.filter(action="download").latest("index").entry)
    assert entry["details"]["item"] == paper.pk

    page.get_by_role("button", name="Take crown off the case").click()
    assert page.get_by_text("crown is off the case").is_visible()
    assert not CaseMember.active().filter(case=case, user__username="crown").exists()
    ended = json.loads(
        CustodyEntry.objects.filter(action="permission-change").latest("index").entry
    )
    assert ended["details"]["change"] == "case-member-ended"
