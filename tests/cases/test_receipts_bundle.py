"""Receipts proved against a signed checkpoint, the code sent by a real SMTP server on
loopback, and the disclosure bundle checked offline by its own verifier."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from cases_support import scene, still_of, transcript_of
from django.test import Client
from django.utils import timezone

from overt.cases.models import CaseItem
from overt.conf import get_settings
from overt.testing.access import sign_in

LATER = (timezone.now() + timedelta(days=30)).isoformat()
REASON = {"category": "Investigation", "text": "disclosure to the defence"}


@pytest.fixture
def world(db, clips: dict[str, Path], tmp_path: Path):  # type: ignore[no-untyped-def]
    world = scene(clips, tmp_path)
    staff = sign_in(Client(), world.manager)
    case = staff.post(
        "/api/cases/", {"reference": "URN-B", "title": "Burglary"}, content_type="application/json"
    ).json()
    for rec in world.recordings:
        staff.post(
            f"/api/cases/{case['id']}/items/",
            {"recording": rec.pk},
            content_type="application/json",
        )
    return world, staff, case


def _verify(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "overt_verify_bundle.py", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_receipt_lists_hashes_and_acts_and_verifies_offline(world, tmp_path: Path) -> None:
    w, staff, case = world
    made = staff.post(
        "/api/shares/",
        {
            "case": case["id"],
            "recipient_name": "Jane",
            "recipient_email": "jane@cps.example",
            "expires_at": LATER,
            "allow_download": True,
        },
        content_type="application/json",
    ).json()
    recipient = Client()
    recipient.post(f"/s/{made['id']}", {"code": "WRONG-WRONG"})
    recipient.post(f"/s/{made['id']}", {"code": made["code"]})
    item = w.recordings[0].pk
    shared_item = CaseItem.objects.get(case_id=case["id"], recording_id=item)
    from overt.cases.models import SharedItem

    target = SharedItem.objects.get(share_id=made["id"], case_item=shared_item)
    recipient.post(f"/s/{made['id']}/items/{target.pk}/download", {"part": "0"})
    receipt = staff.get(f"/api/shares/{made['id']}/receipt/").json()
    assert receipt["recipient"]["email"] == "jane@cps.example"
    hashes = {f["sha256"] for i in receipt["items"] for f in i["files"]}
    assert {r.originals.get().sha256 for r in w.recordings} == hashes
    assert [e["what"] for e in receipt["events"]] == [
        "created",
        "wrong-code",
        "opened",
        "downloaded",
    ]
    assert receipt["summary"]["downloaded"] == 1
    folder = tmp_path / "r"
    folder.mkdir()
    verifier = Path(__file__).resolve().parents[2] / "src/overt/custody"
    for name in ("overt_verify.py", "overt_verify_bundle.py"):
        (folder / name).write_bytes((verifier / name).read_bytes())
    (folder / "receipt.json").write_text(json.dumps(receipt))
    result = _verify("--receipt", "receipt.json", cwd=folder)
    assert result.returncode == 0, result.stdout
    assert "VERDICT: PASS" in result.stdout
    receipt["entries"][0]["entry"] = receipt["entries"][0]["entry"].replace("Jane", "John")
    (folder / "receipt.json").write_text(json.dumps(receipt))
    tampered = _verify("--receipt", "receipt.json", cwd=folder)
    assert tampered.returncode == 1 and "FAIL" in tampered.stdout
    pdf = staff.get(f"/shares/{made['id']}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_code_is_mailed_through_a_real_smtp_server(world, monkeypatch) -> None:
    _w, staff, case = world
    inbox: list = []

    class Keep(Message):
        def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
            inbox.append(message)

    with socket.socket() as probe:  # a free loopback port for the server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Controller(Keep(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        monkeypatch.setenv("OVERT_SMTP_URL", f"smtp://127.0.0.1:{port}")
        get_settings.cache_clear()
        made = staff.post(
            "/api/shares/",
            {
                "case": case["id"],
                "recipient_name": "Jane",
                "recipient_email": "jane@cps.example",
                "expires_at": LATER,
                "send_email": True,
            },
            content_type="application/json",
        ).json()
    finally:
        server.stop()
        monkeypatch.delenv("OVERT_SMTP_URL")
        get_settings.cache_clear()
    assert made["emailed"] is True and made["mail_problem"] == ""
    assert len(inbox) == 1 and inbox[0]["To"] == "jane@cps.example"
    body = inbox[0].get_payload()
    assert made["code"] in body and made["url"] in body


def test_a_dead_mail_server_leaves_the_share_made_and_says_so(world, monkeypatch) -> None:
    _w, staff, case = world
    monkeypatch.setenv("OVERT_SMTP_URL", "smtp://127.0.0.1:9")  # nothing listens
    get_settings.cache_clear()
    try:
        made = staff.post(
            "/api/shares/",
            {
                "case": case["id"],
                "recipient_name": "J",
                "recipient_email": "j@x.example",
                "expires_at": LATER,
                "send_email": True,
            },
            content_type="application/json",
        )
    finally:
        monkeypatch.delenv("OVERT_SMTP_URL")
        get_settings.cache_clear()
    assert made.status_code == 201
    assert made.json()["emailed"] is False and made.json()["mail_problem"]


def test_the_bundle_streams_and_verifies_offline_with_provenance(world, tmp_path: Path) -> None:
    w, staff, case = world
    still = still_of(w.recordings[0])
    transcript_of(w.recordings[1])
    staff.post(
        f"/api/cases/{case['id']}/items/", {"derivative": still.pk}, content_type="application/json"
    )
    withheld = CaseItem.objects.get(case_id=case["id"], recording=w.recordings[2], kind="recording")
    staff.patch(
        f"/api/cases/{case['id']}/items/{withheld.pk}/",
        {"do_not_disclose": True, "reason": "sensitive"},
        content_type="application/json",
    )
    response = staff.post(
        f"/api/cases/{case['id']}/bundle/", REASON, content_type="application/json"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    parts = list(response.streaming_content)
    assert len(parts) > 5  # streamed, member by member
    archive = zipfile.ZipFile(io.BytesIO(b"".join(parts)))
    names = archive.namelist()
    root = names[0].split("/")[0]
    for wanted in (
        "README.txt",
        "manifest.json",
        "schedule/mg6c.csv",
        "schedule/mg6c.pdf",
        "overt_verify.py",
        "overt_verify_bundle.py",
    ):
        assert f"{root}/{wanted}" in names
    withheld_sha = w.recordings[2].originals.get().sha256
    assert not any(withheld_sha[:12] in n for n in names)  # do-not-disclose left out
    assert any(n.startswith(f"{root}/stills/") for n in names)
    assert any(n.startswith(f"{root}/transcripts/") for n in names)
    schedule = archive.read(f"{root}/schedule/mg6c.csv").decode("utf-8-sig")
    assert schedule.splitlines()[0].startswith("Item no.,Description and relevant date")
    archive.extractall(tmp_path / "out")
    folder = tmp_path / "out" / root
    result = _verify(".", cwd=folder)
    assert result.returncode == 0, result.stdout
    assert "made from original" in result.stdout and "VERDICT: PASS" in result.stdout
    # A changed file, and an added one, both fail.
    victim = next(p for p in (folder / "originals").iterdir())
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes() + b"x")
    (folder / "extra.txt").write_text("slipped in")
    failed = _verify(".", cwd=folder)
    assert failed.returncode == 1
    assert "altered" in failed.stdout and "not in the manifest" in failed.stdout


def test_the_bundle_needs_a_reason_and_export_rights(world) -> None:
    w, staff, case = world
    assert (
        staff.post(
            f"/api/cases/{case['id']}/bundle/",
            {"category": "Investigation", "text": ""},
            content_type="application/json",
        ).status_code
        == 400
    )
    outsider = sign_in(Client(), w.outsider)
    assert (
        outsider.post(
            f"/api/cases/{case['id']}/bundle/", REASON, content_type="application/json"
        ).status_code
        == 404
    )
