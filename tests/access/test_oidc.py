"""Single sign-on against a real OpenID Connect provider that the test starts on loopback
(overt.testing.oidc_provider): code flow with PKCE, RS256 ID tokens checked against the
provider's JWKS by mozilla-django-oidc, then overt's own rules."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from access_support import people
from django.test import Client

from overt.custody.models import CustodyEntry
from overt.testing.access import make_user, totp_device, totp_now
from overt.testing.oidc_provider import Provider


@pytest.fixture
def provider(settings, db: None) -> Iterator[Provider]:  # type: ignore[no-untyped-def]
    with Provider() as running:
        for name, value in running.settings().items():
            setattr(settings, name, value)
        yield running


def sso(client: Client, provider: Provider, next_url: str = "/"):  # type: ignore[no-untyped-def]
    """Start SSO at overt, let the provider answer (real HTTP), return overt's reply."""
    start = client.get("/oidc/authenticate/", {"next": next_url})
    assert start.status_code == 302
    location = urlsplit(start["Location"])
    assert f"{location.scheme}://{location.netloc}" == provider.url
    connection = http.client.HTTPConnection(location.hostname, location.port, timeout=30)
    connection.request("GET", f"{location.path}?{location.query}")
    answer = connection.getresponse()
    assert answer.status == 302
    back = urlsplit(answer.getheader("Location"))
    connection.close()
    assert back.path == "/oidc/callback/"
    return client.get(f"{back.path}?{back.query}")


def logins(username: str) -> list[dict]:
    rows = CustodyEntry.objects.filter(action="login", actor=f"user:{username}")
    return [json.loads(r.entry)["details"] for r in rows]


def failures() -> list[dict]:
    return [
        json.loads(r.entry)["details"] for r in CustodyEntry.objects.filter(action="login-failed")
    ]


def test_an_officer_signs_in_with_sso(client: Client, provider: Provider) -> None:
    make_user("bob", "officer", officer=people()["MP1"])  # no password: SSO only
    provider.login_as = {"sub": "u-1", "preferred_username": "bob"}
    page = client.get("/login/").content.decode()
    assert "Sign in with single sign-on" in page
    response = sso(client, provider, "/")
    assert response.status_code == 302 and response["Location"] == "/home/"
    assert client.get("/").status_code == 200
    assert logins("bob") == [{"method": "oidc", "second_factor": ""}]
    assert {"GET /authorize", "POST /token", "GET /jwks", "GET /userinfo"} <= set(provider.requests)


def test_sso_never_creates_users(client: Client, provider: Provider, django_user_model) -> None:
    provider.login_as = {"sub": "u-2", "preferred_username": "stranger"}
    response = sso(client, provider)
    assert response.status_code == 302 and response["Location"].startswith("/login/?sso=failed")
    assert not django_user_model.objects.filter(username="stranger").exists()
    assert client.get("/").status_code == 302
    assert failures()[-1] == {"method": "oidc", "reason": "sso-unknown-user"}
    assert "did not sign you in" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("mode", ["wrong-audience", "wrong-key", "no-exp", "expired"])
def test_bad_id_tokens_are_refused(client: Client, provider: Provider, mode: str) -> None:
    make_user("bob", "officer", officer=people()["MP1"])
    provider.login_as = {"sub": "u-1", "preferred_username": "bob"}
    provider.mode = mode
    response = sso(client, provider)
    assert response.status_code == 302 and response["Location"].startswith("/login/?sso=failed")
    assert client.get("/").status_code == 302
    assert logins("bob") == []
    assert failures()[-1]["reason"] == "sso-refused"


def test_sso_still_asks_for_totp_where_the_role_needs_it(
    client: Client, provider: Provider
) -> None:
    user = make_user("eve", "evidence-manager")
    device = totp_device(user)
    provider.login_as = {"sub": "u-3", "preferred_username": "eve"}
    response = sso(client, provider)
    assert response["Location"] == "/login/totp/"
    assert client.get("/").status_code == 302  # not signed in yet
    done = client.post("/login/totp/", {"token": totp_now(device)})
    assert done.status_code == 302 and done["Location"] == "/home/"
    assert client.get("/").status_code == 200
    assert logins("eve") == [{"method": "oidc", "second_factor": "totp"}]


def test_mfa_at_the_provider_counts_as_the_second_factor(
    client: Client, provider: Provider
) -> None:
    make_user("eve", "evidence-manager")
    provider.login_as = {"sub": "u-3", "preferred_username": "eve", "amr": ["pwd", "mfa"]}
    response = sso(client, provider)
    assert response.status_code == 302 and response["Location"] == "/home/"
    assert client.get("/").status_code == 200
    assert logins("eve") == [{"method": "oidc", "second_factor": "idp"}]


def test_sso_is_off_until_configured(client: Client, db: None) -> None:
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert "single sign-on" not in client.get("/login/").content.decode()
