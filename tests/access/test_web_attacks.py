"""Web attacks: IDOR on every URL that carries an id, CSRF on every state-changing route,
session fixation, open redirect on login, brute force into lockout, and the security
headers and session rules that stand behind them.

The IDOR and CSRF tests walk Django's URL resolver, so a new URL is covered (or, if its
parameters are of a kind these tests do not know yet, fails until it is described here).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterator

import pytest
from access_support import incident, people, recording
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from overt.access import grants
from overt.access.models import Alert, Lockout
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.redaction.models import RedactionProject
from overt.testing.access import make_user, sign_in

PASSWORD = "correct horse battery staple"

# Routes a browser session does not use: device protocols with their own credentials
# (tested in tests/uploads), exempt from CSRF by design, and with no recording ids.
DEVICE_ROUTES = {"axis-auth", "swift-account", "swift-container", "swift-object", "tus",
    # The camera agent's API: device tokens, walked in tests/uploads/test_upload_id_walk.py.
    "api-capture-manifest", "api-capture-manifests", "api-device-enrol", "api-device-peers",
    "api-device-status", "api-device-config"}  # fmt: skip


def routes() -> Iterator[tuple[str, URLPattern, list[str]]]:
    """(name for reverse(), pattern, its parameter names) for every URL."""

    def walk(patterns, namespace: str | None) -> Iterator[tuple[str, URLPattern, list[str]]]:  # type: ignore[no-untyped-def]
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, p.namespace or namespace)
                continue
            assert p.name, f"unnamed URL pattern {p.pattern}: name it so the tests can reach it"
            name = f"{namespace}:{p.name}" if namespace else p.name
            converters = getattr(p.pattern, "converters", None)
            params = list(converters) if converters else list(p.pattern.regex.groupindex)
            yield name, p, params

    yield from walk(get_resolver().url_patterns, None)


# --- IDOR -------------------------------------------------------------------------------


@pytest.fixture
def victim(db: None) -> dict:
    """Another team's recording, with everything that hangs off it."""
    officers = people()
    manager = make_user("pim", "supervisor", team="Bravo")
    rec = recording(officers["MP3"], "Victim recording", incident=incident("CAD 9/VICTIM"))
    original = rec.originals.get()
    project = RedactionProject.objects.create(
        original=original, title="Victim redaction", created_by="em"
    )
    procedure = grants.start_post_incident(
        rec.incident,
        officers=[officers["MP3"]],
        manager=manager,
        by=Actor.system("test"),  # type: ignore[arg-type]
    )
    alert = Alert.objects.create(
        kind="break-glass", message="Victim recording opened", recording=rec
    )
    ids = {rec.pk, original.pk, project.pk, procedure.pk, alert.pk}
    ids |= set(original.derivatives.values_list("pk", flat=True))
    return {"recording": rec, "ids": sorted(ids), "title": rec.title}


STR_VALUES = {
    "fmt": ["json", "zip", "pdf"], "number": ["1", "DC-2026-000001"],
    "share_id": ["0" * 32], "pk": ["0" * 32],  # outside shares' (and their API's) 128-bit ids
    "reference": ["CMP/1"], "serial": ["CAM-ACCESS"], "action": ["disable", "enable"],
    "sha256": ["0" * 64],
}  # fmt: skip


def fill(params: list[str], pattern: URLPattern, victim: dict) -> list[dict]:
    converters = getattr(pattern.pattern, "converters", {}) or {}
    choices = []
    for name in params:
        converter = converters.get(name)
        is_int = (converter is not None and type(converter).__name__ == "IntConverter") or (
            converter is None and name.endswith("_id") and name not in STR_VALUES
        )
        if is_int:
            choices.append([(name, i) for i in victim["ids"]])
        elif name in STR_VALUES:
            choices.append([(name, v) for v in STR_VALUES[name]])
        else:
            pytest.fail(
                f"URL {pattern.pattern} has a parameter {name!r} this test cannot fill: "
                "describe it in STR_VALUES (or, for a device route, DEVICE_ROUTES)"
            )
    return [dict(combo) for combo in itertools.product(*choices)]


def urls(name: str, pattern: URLPattern, params: list[str], victim: dict) -> list[str]:
    """The route's URLs for every filling its pattern accepts (a format one route takes may
    not be another's); at least one."""
    found = []
    for kwargs in fill(params, pattern, victim) if params else [{}]:
        try:
            found.append(reverse(name, kwargs=kwargs))
        except NoReverseMatch:
            continue
    assert found, f"no filling of {pattern.pattern} reverses: describe it in STR_VALUES"
    return found


def test_idor_on_every_url_with_an_id(client: Client, victim: dict) -> None:
    officers = people()
    attacker = make_user("attacker", "officer", officer=officers["MP1"])
    sign_in(client, attacker)
    tried = 0
    leaks = []
    for name, pattern, params in routes():
        if not params or name in DEVICE_ROUTES:
            continue
        for url in urls(name, pattern, params, victim):
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                tried += 1
                body = b"" if response.streaming else response.content
                if response.status_code not in (403, 404, 405) or victim["title"].encode() in body:
                    leaks.append(f"{method.upper()} {url} -> {response.status_code}")
    assert tried > 50
    assert not leaks, "IDOR: the attacker reached another officer's evidence:\n" + "\n".join(leaks)
    # Nothing changed hands: the victim's procedure is still locked, its alert unread.
    assert not Alert.objects.filter(acknowledged_at__isnull=False).exists()


def test_the_same_urls_work_for_someone_allowed(client: Client, victim: dict) -> None:
    """The IDOR test's ids are real: an evidence manager reaches the same objects."""
    sign_in(client, make_user("em", "evidence-manager"))
    rec = victim["recording"]
    assert client.get(f"/recordings/{rec.pk}/").status_code == 200
    assert client.get(f"/api/recordings/{rec.pk}/").status_code == 200
    poster = rec.originals.get().derivatives.get(kind="poster")
    assert client.get(f"/media/derivatives/{poster.pk}/thumbnail").status_code == 200


# --- CSRF -------------------------------------------------------------------------------


def test_csrf_on_every_state_changing_route(db: None, victim: dict) -> None:
    """Every route refuses a POST (and PUT, PATCH, DELETE) without a CSRF token from a
    signed-in browser session, whatever the view would do with it."""
    client = Client(enforce_csrf_checks=True)
    sign_in(client, make_user("em", "evidence-manager"))
    client.get("/")  # the session is live
    refused = []
    for name, pattern, params in routes():
        if name in DEVICE_ROUTES:
            assert getattr(pattern.callback, "csrf_exempt", False)
            continue
        url = urls(name, pattern, params, victim)[0]
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url)
            if response.status_code != 403 or b"CSRF" not in response.content:
                refused.append(f"{method.upper()} {url} -> {response.status_code}")
    assert not refused, "accepted without a CSRF token:\n" + "\n".join(refused)


def test_login_form_needs_its_csrf_token(db: None) -> None:
    make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert response.status_code == 403
    page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    ok = client.post(
        "/login/", {"username": "bob", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert ok.status_code == 302


# --- session fixation and open redirect -------------------------------------------------


def test_session_fixation(client: Client, db: None) -> None:
    make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    planted = SessionStore()
    planted["planted"] = True
    planted.create()
    client.cookies["sessionid"] = planted.session_key
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert response.status_code == 302
    new_key = client.cookies["sessionid"].value
    assert new_key != planted.session_key
    assert not SessionStore().exists(planted.session_key)  # the planted key is gone
    attacker = Client()
    attacker.cookies["sessionid"] = planted.session_key
    assert attacker.get("/").status_code == 302  # the planted session signs nobody in


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example/phish",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:///evil.example",
        " https://evil.example",
        "abc",  # a bare word: redirect() would try to reverse it as a URL name (was a 500)
        "jobs/",
    ],
)
def test_no_open_redirect_on_login(client: Client, db: None, target: str) -> None:
    make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    response = client.post("/login/", {"username": "bob", "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response["Location"] == "/home/"
    again = client.get("/login/", {"next": target})  # signed in: straight on, still home
    assert again.status_code == 302 and again["Location"] == "/home/"


def test_login_keeps_a_safe_next(client: Client, db: None) -> None:
    make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    form = client.get("/login/", {"next": "/jobs/?status=failed"}).content.decode()
    assert 'value="/jobs/?status=failed"' in form
    response = client.post(
        "/login/", {"username": "bob", "password": PASSWORD, "next": "/jobs/?status=failed"}
    )
    assert response["Location"] == "/jobs/?status=failed"


# --- brute force ------------------------------------------------------------------------


def _failures(username: str) -> list[dict]:
    rows = CustodyEntry.objects.filter(action="login-failed", actor=f"user:{username}")
    return [json.loads(r.entry)["details"] for r in rows.order_by("index")]


def test_brute_force_locks_the_account(client: Client, db: None, settings_env) -> None:
    settings_env(login_max_failures=3)
    make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    for n in range(3):
        response = client.post("/login/", {"username": "bob", "password": f"guess {n}"})
        assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert Lockout.objects.filter(username="bob").count() == 1
    locked = client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert locked.status_code == 403
    assert "locked" in locked.content.decode()
    assert client.get("/").status_code == 302  # not signed in
    reasons = [d["reason"] for d in _failures("bob")]
    assert reasons == ["bad-credentials"] * 3 + ["lockout", "locked"]
    assert Alert.objects.filter(kind="lockout", username="bob").exists()

    from overt.access.auth import unlock

    assert unlock("bob", by=Actor("user", "admin")) == 1
    assert client.post("/login/", {"username": "bob", "password": PASSWORD}).status_code == 302
    assert CustodyEntry.objects.filter(action="login", actor="user:bob").count() == 1


def test_many_failures_from_one_address_are_rate_limited(
    client: Client, db: None, settings_env
) -> None:
    settings_env(login_address_max_failures=4, login_max_failures=50)
    make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    for n in range(4):  # spraying different usernames from one address
        client.post("/login/", {"username": f"user{n}", "password": "guess"})
    response = client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert response.status_code == 429
    other_address = Client(REMOTE_ADDR="198.51.100.7")
    assert (
        other_address.post("/login/", {"username": "bob", "password": PASSWORD}).status_code == 302
    )


def test_wrong_totp_codes_count_towards_lockout(client: Client, db: None, settings_env) -> None:
    settings_env(login_max_failures=2)
    user = make_user("eve", "evidence-manager", password=PASSWORD)
    from overt.testing.access import totp_device

    totp_device(user)
    assert (
        client.post("/login/", {"username": "eve", "password": PASSWORD})["Location"]
        == "/login/totp/"
    )
    client.post("/login/totp/", {"token": "000000"})
    client.post("/login/totp/", {"token": "999999"})
    assert Lockout.objects.filter(username="eve").exists()
    assert client.post("/login/", {"username": "eve", "password": PASSWORD}).status_code == 403


# --- headers and session rules ----------------------------------------------------------


def test_security_headers(client: Client, db: None) -> None:
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response  # plain HTTP: no HSTS
    secure = client.get("/login/", secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=")
    assert "Content-Security-Policy" in client.get("/api/recordings/")


def test_session_cookie_flags(client: Client, db: None) -> None:
    make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_idle_session_ends(client: Client, db: None, settings_env) -> None:
    settings_env(session_idle_seconds=60)
    make_user("bob", "officer", officer=people()["MP1"], password=PASSWORD)
    client.post("/login/", {"username": "bob", "password": PASSWORD})
    assert client.get("/").status_code == 200
    session = client.session
    session["overt.seen_at"] = time.time() - 61  # as if a minute passed unused
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_session_without_the_second_factor_its_role_needs_is_ended(
    client: Client, db: None
) -> None:
    client.force_login(make_user("eve", "evidence-manager"))  # no TOTP step taken
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    api = client.get("/api/recordings/")
    assert api.status_code == 403 and api["Content-Type"] == "application/problem+json"


def test_unauthenticated_root_leads_to_the_login_form(client: Client, db: None) -> None:
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/")
    html = response.content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert "<script>" not in html and " on" + "click=" not in html
