"""Item 20 of issue 11: X-Forwarded-For is believed only from OVERT_TRUSTED_PROXIES.

Both sides: from a trusted proxy the rightmost untrusted address is the client (in the
custody log and for the per-address sign-in limit); from anyone else, loopback included,
the header is ignored. The last test runs the real `overt serve`, whose server (uvicorn)
used to believe the header from loopback before overt ever saw the request.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.test import Client, RequestFactory

from overt.access.models import LoginFailure
from overt.conf import ConfigError, load_settings, parse_networks
from overt.custody.models import CustodyEntry
from overt.testing.moto import free_port
from overt.web.client_address import client_of, resolve

PROXIES = parse_networks(["10.0.0.0/8", "2001:db8:1::/48"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # not a trusted proxy: the header is the client's own words, ignored
        ("198.51.100.4", "203.0.113.9", "198.51.100.4"),
        ("127.0.0.1", "203.0.113.9", "127.0.0.1"),
        # a trusted proxy: its appended address is the client
        ("10.0.0.2", "203.0.113.9", "203.0.113.9"),
        # a spoofed entry left of the proxy's own: the rightmost untrusted one wins
        ("10.0.0.2", "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        # two trusted proxies in a row are walked past
        ("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.9.9.9", "203.0.113.9"),
        # only proxies in the chain: the furthest one known
        ("10.0.0.2", "10.1.1.1, 10.2.2.2", "10.1.1.1"),
        # garbage left by the client: stop at the last address a proxy wrote
        ("10.0.0.2", "1.2.3.4, <script>, 10.2.2.2", "10.2.2.2"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "203.0.113.9:5555", "203.0.113.9"),
        ("2001:db8:1::5", "[2001:db8:9::7]:443", "2001:db8:9::7"),
        ("::ffff:10.0.0.2", "203.0.113.9", "203.0.113.9"),
    ],
)
def test_rightmost_untrusted_rule(peer: str, forwarded: str, client: str) -> None:
    assert resolve(peer, forwarded, PROXIES) == client


def test_nothing_is_trusted_by_default_and_typos_are_refused() -> None:
    assert load_settings({}).trusted_proxies == []
    assert resolve("127.0.0.1", "203.0.113.9", ()) == "127.0.0.1"
    parsed = load_settings({"OVERT_TRUSTED_PROXIES": "10.0.0.0/8, ::1"}).trusted_proxies
    assert parsed == ["10.0.0.0/8", "::1"]
    with pytest.raises(ConfigError, match="OVERT_TRUSTED_PROXIES"):
        load_settings({"OVERT_TRUSTED_PROXIES": "10.0.0.0/33"})


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_client_of_follows_the_setting(settings_env, trusted: str) -> None:
    settings_env(trusted_proxies=trusted)
    request = RequestFactory().get(
        "/",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9",
        HTTP_USER_AGENT="x" * 600,
    )
    expected = "203.0.113.9" if trusted else "127.0.0.1"
    client = client_of(request)
    assert client.address == expected
    assert client.user_agent == "x" * 500  # capped for the custody log


def test_one_client_of_for_every_stage() -> None:
    """Views, login limits, uploads and releases all ask the one helper in overt.web."""
    import overt.access.auth
    import overt.access.viewing
    import overt.disclosure.views
    import overt.uploads.swift_read

    stages = (overt.access.auth, overt.access.viewing, overt.disclosure.views, overt.uploads.swift_read)
    for module in stages:
        assert module.client_of is client_of, module.__name__


def _failed_login(client: Client, forwarded: str, username: str = "nobody") -> int:
    response = client.post(
        "/login/", {"username": username, "password": "guess"}, HTTP_X_FORWARDED_FOR=forwarded
    )
    return response.status_code


def _logged_addresses() -> list[str]:
    rows = CustodyEntry.objects.filter(action="login-failed").order_by("index")
    return [json.loads(row.entry)["client"]["address"] for row in rows]


def test_header_from_an_untrusted_peer_is_ignored(client: Client, db: None, settings_env) -> None:
    settings_env(trusted_proxies="", login_address_max_failures=3, login_max_failures=100)
    for n in range(3):  # a new forged address each time does not reset the address limit
        assert _failed_login(client, f"203.0.113.{n}", f"user{n}") == 200
    assert _failed_login(client, "198.51.100.77") == 429
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {"127.0.0.1"}
    assert set(_logged_addresses()) == {"127.0.0.1"}


def test_header_from_a_trusted_proxy_names_the_client(
    client: Client, db: None, settings_env
) -> None:
    settings_env(trusted_proxies="127.0.0.1", login_address_max_failures=3, login_max_failures=100)
    for n in range(3):  # the client forges a left-hand entry; the proxy's own entry counts
        assert _failed_login(client, f"6.6.6.{n}, 203.0.113.9", f"user{n}") == 200
    assert _failed_login(client, "203.0.113.9") == 429  # that client is rate-limited...
    assert _failed_login(client, "198.51.100.77") == 200  # ...another behind the proxy is not
    addresses = set(LoginFailure.objects.values_list("address", flat=True))
    assert addresses == {"203.0.113.9", "198.51.100.77"}
    assert set(_logged_addresses()) == {"203.0.113.9", "198.51.100.77"}


# --- the real server -------------------------------------------------------------------


def _serve(home: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env.update({"OVERT_HOME": str(home), "OVERT_MIN_FREE_BYTES": "0"})
    init = subprocess.run(
        [sys.executable, "-m", "overt", "init"], env=env, capture_output=True, timeout=120
    )
    assert init.returncode == 0, init.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "overt", "serve", "--no-worker", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60  # a start-up limit, not an assertion on speed
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except (requests.ConnectionError, requests.Timeout):  # the first answer is slow on a busy machine
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("overt serve did not answer")


def test_overt_serve_ignores_the_header_from_loopback(tmp_path: Path) -> None:
    home, port = tmp_path / "instance", free_port()
    proc = _serve(home, port)
    try:
        session = requests.Session()
        form = session.get(f"http://127.0.0.1:{port}/login/", timeout=30).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token is not None
        response = session.post(
            f"http://127.0.0.1:{port}/login/",
            data={"username": "x", "password": "y", "csrfmiddlewaretoken": token.group(1)},
            headers={"X-Forwarded-For": "203.0.113.9"},
            timeout=30,
        )
        assert response.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with sqlite3.connect(f"file:{home / 'overt.sqlite3'}?mode=ro", uri=True) as db:
        addresses = [row[0] for row in db.execute("SELECT address FROM access_loginfailure")]
    assert addresses == ["127.0.0.1"]
