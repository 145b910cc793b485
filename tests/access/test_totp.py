"""The TOTP second factor through the real pages: enrolment at the first sign-in, then
the code at every sign-in; wrong and replayed codes fail and are logged."""

from __future__ import annotations

import json
import re

from access_support import people
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from overt.custody.models import CustodyEntry
from overt.testing.access import make_user, totp_now

PASSWORD = "correct horse battery staple"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def details(action: str, username: str) -> list[dict]:
    rows = CustodyEntry.objects.filter(action=action, actor=f"user:{username}").order_by("index")
    return [json.loads(r.entry)["details"] for r in rows]


def test_enrol_then_sign_in_with_codes(client: Client, db: None) -> None:
    user = make_user("sue", "supervisor", team="Alpha", password=PASSWORD)
    first = client.post("/login/", {"username": "sue", "password": PASSWORD, "next": "/"})
    assert first.status_code == 302 and first["Location"] == "/login/totp/setup/"
    assert client.get("/").status_code == 302  # the password alone signs nobody in
    page = client.get("/login/totp/setup/").content.decode()
    assert not INLINE_SCRIPT.search(page)
    assert 'src="data:image/svg+xml' in page and "otpauth://totp/" in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    # (A wrong code first would throttle the device for a second: django-otp's own rate
    # limit. Wrong codes are tested on the code page below and in test_web_attacks.)

    code = totp_now(device)
    ok = client.post("/login/totp/setup/", {"token": code})
    assert ok.status_code == 302 and ok["Location"] == "/home/"
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert details("permission-change", "sue") == [{"change": "totp-enrolled"}]
    assert details("login", "sue") == [{"method": "password", "second_factor": "totp"}]

    # Next time: the code page, and the secret is never shown again.
    client.post("/logout/")
    again = client.post("/login/", {"username": "sue", "password": PASSWORD})
    assert again["Location"] == "/login/totp/"
    assert client.get("/login/totp/setup/")["Location"] == "/login/totp/"
    replay = client.post("/login/totp/", {"token": code})
    assert replay.status_code == 400 and 'role="alert"' in replay.content.decode()
    assert client.get("/").status_code == 302  # a code works once
    assert [d["reason"] for d in details("login-failed", "sue")] == ["bad-totp"]


def test_the_code_page_needs_the_password_first(client: Client, db: None) -> None:
    assert client.get("/login/totp/")["Location"] == "/login/"
    assert client.post("/login/totp/", {"token": "123456"})["Location"] == "/login/"
    assert client.get("/login/totp/setup/")["Location"] == "/login/"


def test_officers_need_no_second_factor_by_default(client: Client, db: None) -> None:
    make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    response = client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert response["Location"] == "/home/"
    assert details("login", "bob") == [{"method": "password", "second_factor": ""}]


def test_the_threshold_is_a_setting(client: Client, db: None, settings_env) -> None:
    settings_env(totp_required_from="officer")
    make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    assert client.post("/login/", {"username": "bob", "password": PASSWORD})["Location"] == (
        "/login/totp/setup/"
    )
    settings_env(totp_required_from="admin")
    make_user("sue", "supervisor", team="Alpha", password=PASSWORD)
    signed = Client().post("/login/", {"username": "sue", "password": PASSWORD})
    assert signed["Location"] == "/home/"


def test_passwords_are_hashed_with_argon2id(db: None) -> None:
    user = make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    assert user.password.startswith("argon2$argon2id$")
