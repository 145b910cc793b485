"""The upload page: tus-js-client in Debian's Chromium sends a file to /files/, signed in
by the session of an evidence officer."""

from __future__ import annotations

import hashlib
import json

import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from overt.custody.models import CustodyEntry
from overt.evidence.models import Original
from support_browser import screenshot

from .conftest import TUS

PASSWORD = "correct horse battery"


def _officer_user(name: str, *, may_upload: bool = True):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(name, password=PASSWORD)
    if may_upload:
        user.user_permissions.add(Permission.objects.get(codename="add_upload"))
    return user


def _log_in(page, server: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/uploads/new/")
    assert "/login/" in page.url
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/uploads/new/")


def test_an_evidence_officer_uploads_a_file_from_the_browser(
    server, page, people, clips, tmp_path
) -> None:
    _officer_user("evidence.officer")
    source = tmp_path / "witness-phone.mp4"
    source.write_bytes(clips["good"].read_bytes() + b"\x00" * 1024)  # unlike other tests' bytes
    digest = hashlib.sha256(source.read_bytes()).hexdigest()

    _log_in(page, server, "evidence.officer")
    page.get_by_label("File").set_input_files(str(source))
    page.get_by_label("Officer").select_option("MP100")
    page.get_by_label("Device").select_option("CAM-1")
    page.get_by_label("SHA-256 (optional)").fill(digest)
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Stored: witness-phone.mp4 is evidence now.").wait_for(timeout=60_000)
    screenshot(page, "upload-stored")

    original = Original.objects.get(sha256=digest)
    assert original.filename == "witness-phone.mp4"
    assert original.source == Original.Source.UPLOAD
    entry = json.loads(CustodyEntry.objects.get(action="ingest", object_sha256=digest).entry)
    assert entry["actor"] == {"kind": "user", "id": "evidence.officer"}
    # The result links to the recording the file became (issue 19).
    link = page.get_by_role("link", name="Open the new recording")
    link.wait_for(timeout=10_000)
    assert link.get_attribute("href") == f"/recordings/{original.recording_id}/"


def test_a_witness_phone_is_registered_from_the_upload_page(server, page, people) -> None:
    """The form is for witness phones and CCTV: such a source is registered in a step
    (logged as `overt device add` logs it) and offered at once, before body cameras."""
    _officer_user("evidence.officer")
    _log_in(page, server, "evidence.officer")
    page.get_by_text("Register another source").click()
    page.get_by_label("Kind").select_option("phone")
    page.get_by_label("Description").fill("Witness J. Smith, iPhone")
    page.get_by_role("button", name="Register source").click()
    page.wait_for_url(f"{server}/uploads/new/?device=*")
    chosen = page.get_by_label("Device").evaluate("s => s.selectedOptions[0].textContent")
    assert chosen.startswith("Witness phone: Witness J. Smith, iPhone (PHONE-")
    groups = page.locator("#upload-device optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert groups == ["Witness phones, CCTV and other sources", "Body cameras"]
    added = CustodyEntry.objects.get(action="metadata-change")
    assert json.loads(added.entry)["details"]["model"] == "Witness phone: Witness J. Smith, iPhone"


def test_a_wrong_hash_from_the_browser_is_quarantined_and_said(
    server, page, people, tmp_path
) -> None:
    _officer_user("evidence.officer")
    source = tmp_path / "cctv.mp4"
    source.write_bytes(b"cctv export " * 5000)
    _log_in(page, server, "evidence.officer")
    page.get_by_label("File").set_input_files(str(source))
    page.get_by_label("Officer").select_option("MP100")
    page.get_by_label("Device").select_option("CAM-1")
    page.get_by_label("SHA-256 (optional)").fill("0" * 64)
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("Upload failed: 460").wait_for(timeout=60_000)
    assert "quarantine" in page.locator("#upload-status").inner_text()
    assert not Original.objects.filter(sha256=hashlib.sha256(source.read_bytes()).hexdigest())


def test_sessions_need_the_permission_and_the_same_origin(server, page, people) -> None:
    _officer_user("viewer", may_upload=False)
    _officer_user("uploader")
    page.goto(f"{server}/login/")
    page.get_by_label("Username").fill("viewer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/home/")
    response = page.goto(f"{server}/uploads/new/")
    assert response.status == 403
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    headers = {**TUS, "Upload-Length": "5", "Upload-Metadata": "officer TVAxMDA=,device Q0FNLTE="}
    refused = requests.post(f"{server}/files/", headers=headers, cookies=cookies, timeout=10)
    assert refused.status_code == 403

    page.context.clear_cookies()
    _log_in(page, server, "uploader")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    cross = requests.post(
        f"{server}/files/",
        headers={**headers, "Origin": "https://evil.example"},
        cookies=cookies,
        timeout=10,
    )
    assert cross.status_code == 403
    same = requests.post(
        f"{server}/files/", headers={**headers, "Origin": server}, cookies=cookies, timeout=10
    )
    assert same.status_code == 201, same.text


def test_evidence_managers_upload_under_the_session_rules(server, people) -> None:
    from django.conf import settings
    from django.test import Client

    from overt.testing.access import make_user, sign_in

    headers = {**TUS, "Upload-Length": "5", "Upload-Metadata": "officer TVAxMDA=,device Q0FNLTE="}

    def post_as(client: Client) -> requests.Response:
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        return requests.post(
            f"{server}/files/",
            headers=headers,
            cookies={settings.SESSION_COOKIE_NAME: cookie},
            timeout=10,
        )

    manager = make_user("manager", "evidence-manager", password=PASSWORD)
    assert post_as(sign_in(Client(), manager)).status_code == 201

    # The same role without its second factor: the session rules end the session.
    half = Client()
    half.force_login(manager)
    assert post_as(half).status_code == 401

    officer = make_user("wearer", "officer", officer="MP100", password=PASSWORD)
    assert post_as(sign_in(Client(), officer)).status_code == 403
