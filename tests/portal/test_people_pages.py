"""The admin's users and tokens pages call the services `overt user` and `overt token`
call: the same rows and the same custody entries; a token is shown once."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from portal_support import client_for, people

from overt.access.matrix import Role
from overt.access.models import ApiToken, Lockout, UserProfile
from overt.custody.models import CustodyEntry
from overt.evidence.models import Device, Officer
from overt.testing.access import totp_device
from overt.uploads.models import DeviceToken

pytestmark = pytest.mark.django_db


def _changes() -> list[str]:
    rows = CustodyEntry.objects.filter(action="permission-change").order_by("index")
    return [json.loads(r.entry)["details"].get("change", "") for r in rows]


def test_add_a_user_change_role_disable_reset_unlock() -> None:
    users = people()
    admin = client_for(users[Role.ADMIN])
    Officer.objects.create(number="MP3", name="PC Three", team="Team A")
    added = admin.post(
        "/access/users/",
        {
            "username": "pc.new",
            "role": "officer",
            "officer": "MP3",
            "password": "a-long-passphrase",
        },
    )
    assert added.status_code == 302
    new = get_user_model().objects.get(username="pc.new")
    assert UserProfile.objects.get(user=new).role == "officer" and new.check_password(
        "a-long-passphrase"
    )
    role = admin.post(f"/access/users/{new.pk}/role", {"role": "supervisor", "team": "Team A"})
    assert role.status_code == 302 and UserProfile.objects.get(user=new).role == "supervisor"

    totp_device(new)
    from django.utils import timezone

    Lockout.objects.create(username="pc.new", failures=5, until=timezone.now().replace(year=2099))
    assert admin.post(f"/access/users/{new.pk}/reset-totp").status_code == 302
    assert admin.post(f"/access/users/{new.pk}/unlock").status_code == 302
    assert admin.post(f"/access/users/{new.pk}/disable").status_code == 302
    new.refresh_from_db()
    assert not new.is_active
    assert not Lockout.objects.filter(cleared_at__isnull=True).exists()
    assert {"totp-reset", "unlock", "disabled"} <= set(_changes())


def test_a_bad_role_is_shown_not_written() -> None:
    admin = client_for(people()[Role.ADMIN])
    refused = admin.post("/access/users/", {"username": "x", "role": "officer"})
    assert refused.status_code == 400
    assert "an officer user needs" in refused.content.decode()
    assert not get_user_model().objects.filter(username="x").exists()


def test_a_token_is_shown_once_and_revoked() -> None:
    users = people()
    admin = client_for(users[Role.ADMIN])
    made = admin.post(
        "/access/tokens/",
        {"user": "auditor", "name": "RMS sync", "scopes": ["read-custody"], "days": "30"},
    )
    assert made.status_code == 200 and made["Cache-Control"].startswith("max-age=0")
    text = made.content.decode().split('<code id="new-token">', 1)[1].split("</code>", 1)[0]
    assert text.startswith("ovt_")
    assert text not in admin.get("/access/tokens/").content.decode()  # never again
    row = ApiToken.objects.get(name="RMS sync")
    assert row.scopes == ["read-custody"] and row.expires_at is not None
    assert admin.post(f"/access/tokens/{row.pk}/revoke").status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert {"token-created", "token-revoked"} <= set(_changes())


def test_device_token_shown_once() -> None:
    admin = client_for(people()[Role.ADMIN])
    Device.objects.create(serial="CCTV-7", model="Shop CCTV")
    made = admin.post("/devices/tokens/", {"device": "CCTV-7"})
    assert made.status_code == 200 and "New token for CCTV-7" in made.content.decode()
    assert DeviceToken.objects.filter(device__serial="CCTV-7", revoked_at__isnull=True).count() == 1
    assert admin.post("/devices/tokens/revoke", {"device": "CCTV-7"}).status_code == 302
    assert not DeviceToken.objects.filter(revoked_at__isnull=True).exists()


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_only_the_admin(role: Role) -> None:
    client = client_for(people()[role])
    for url in ("/access/users/", "/access/tokens/", "/devices/tokens/"):
        assert client.get(url).status_code == 403, url
