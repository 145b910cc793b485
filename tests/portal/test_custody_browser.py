"""The auditor's custody browser: filters, withheld entries, the read logged, an entry's
inclusion proof that checks against the log's root, and report downloads."""

from __future__ import annotations

import json

import pytest
from portal_support import client_for, original, people, recording

from overt.access.matrix import Role
from overt.access.recording_log import record_for_recording
from overt.custody import merkle
from overt.custody.checkpoints import issue_checkpoint
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor

pytestmark = pytest.mark.django_db


def _seed() -> tuple:
    users = people()
    rec = recording()
    other = recording("Welfare check", officer="MP2")
    original(rec)
    original(other)
    from django.db import transaction

    with transaction.atomic():
        record_for_recording("view", Actor("user", "officer"), rec, justification="statement-alpha")
        record_for_recording(
            "view", Actor("user", "supervisor"), other, justification="supervisory-beta"
        )
    return users, rec, other


def test_filter_by_actor_and_recording_and_the_read_is_logged() -> None:
    users, _rec, other = _seed()
    auditor = client_for(users[Role.AUDITOR])
    page = auditor.get("/custody/", {"actor": "user:officer"}).content.decode()
    assert "statement-alpha" in page and "supervisory-beta" not in page
    page = auditor.get("/custody/", {"recording": other.pk}).content.decode()
    assert "supervisory-beta" in page and "statement-alpha" not in page
    reads = CustodyEntry.objects.filter(action="export", actor="user:auditor")
    assert reads.count() == 2  # one per recording whose entries were shown
    assert auditor.get("/custody/", {"object": "xyz"}).status_code == 400


def test_entries_the_reader_may_not_audit_are_withheld() -> None:
    from overt.access.grants import set_access_class

    users, rec, _other = _seed()
    set_access_class(rec, "restricted", by=Actor.system("test"))
    manager = client_for(users[Role.EVIDENCE_MANAGER])  # no audit on restricted footage
    page = manager.get("/custody/", {"action": "view"}).content.decode()
    assert "statement-alpha" not in page and "are not shown" in page
    assert "supervisory-beta" in page
    index = CustodyEntry.objects.filter(actor="user:officer").first().index
    assert manager.get(f"/custody/entries/{index}/").status_code == 404
    assert client_for(users[Role.AUDITOR]).get(f"/custody/entries/{index}/").status_code == 200


def test_an_entrys_inclusion_proof_checks_against_the_checkpoint() -> None:
    users, _rec, _ = _seed()
    cp = issue_checkpoint()
    entry = CustodyEntry.objects.filter(actor="user:officer").first()
    page = client_for(users[Role.AUDITOR]).get(f"/custody/entries/{entry.index}/")
    assert page.status_code == 200
    proof = page.context["proof"]
    assert proof["tree_size"] == cp.size and proof["checkpoint"] == cp.note
    hashes = [bytes.fromhex(h) for h in proof["hashes"]]
    leaf, root = bytes.fromhex(entry.leaf_hash), bytes.fromhex(cp.root)
    assert merkle.verify_inclusion(leaf, entry.index, cp.size, hashes, root)


def test_report_downloads_are_logged_exports() -> None:
    users, rec, _ = _seed()
    auditor = client_for(users[Role.AUDITOR])
    before = CustodyEntry.objects.filter(action="export").count()
    got = auditor.get("/custody/report", {"recording": rec.pk, "format": "json"})
    assert got.status_code == 200 and got["Content-Type"] == "application/json"
    assert json.loads(got.content)["recording"]["id"] == rec.pk
    assert CustodyEntry.objects.filter(action="export").count() > before
    html = auditor.get("/custody/report", {"recording": rec.pk, "format": "html"})
    assert html.status_code == 200 and b"<html" in html.content.lower()
    assert auditor.get("/custody/report", {"recording": "x"}).status_code == 400
    verifier = auditor.get("/custody/overt_verify.py")
    assert verifier.status_code == 200
    officer = client_for(users[Role.OFFICER])
    assert officer.get("/custody/").status_code == 403
    assert officer.get("/custody/report", {"recording": rec.pk}).status_code == 403


def test_checkpoints_page_lists_verify_runs() -> None:
    from overt.custody.verify import verify_instance

    users, _, _ = _seed()
    issue_checkpoint()
    verify_instance(log_only=True)
    page = client_for(users[Role.AUDITOR]).get("/custody/checkpoints/").content.decode()
    assert "passed" in page and "Show note" in page
