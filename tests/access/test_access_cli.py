"""`overt user`, `overt token` and `overt access` as a person runs them."""

from __future__ import annotations

import json


def test_user_add_list_and_role(overt_cli) -> None:
    missing = overt_cli(
        "user",
        "add",
        "bob",
        "--role",
        "officer",
        "--officer",
        "MP9",
        "--password-stdin",
        input=b"a long enough password\n",
    )
    assert missing.returncode == 2 and "no officer 'MP9'" in missing.stderr
    assert (
        overt_cli("officer", "add", "MP9", "--name", "PC Nine", "--team", "Alpha").returncode == 0
    )
    added = overt_cli(
        "user",
        "add",
        "bob",
        "--role",
        "officer",
        "--officer",
        "MP9",
        "--password-stdin",
        input=b"a long enough password\n",
    )
    assert added.returncode == 0, added.stderr
    assert "added bob (officer)" in added.stdout
    sue = overt_cli(
        "user",
        "add",
        "sue",
        "--role",
        "supervisor",
        "--team",
        "Alpha",
        "--password-stdin",
        input=b"another long password\n",
    )
    assert sue.returncode == 0, sue.stderr
    assert overt_cli("user", "add", "bob", "--role", "auditor").returncode == 2  # exists

    short = overt_cli(
        "user", "add", "al", "--role", "auditor", "--password-stdin", input=b"short\n"
    )
    assert short.returncode == 2 and "password refused" in short.stderr
    wrong = overt_cli("user", "add", "al", "--role", "superuser")
    assert wrong.returncode == 2 and "superuser" in wrong.stderr
    no_officer = overt_cli("user", "add", "ann", "--role", "officer")
    assert no_officer.returncode == 2 and "needs --officer" in no_officer.stderr

    listed = json.loads(overt_cli("user", "list", "--json").stdout)
    by_name = {u["username"]: u for u in listed}
    assert by_name["bob"]["role"] == "officer" and by_name["bob"]["officer"] == "MP9"
    assert by_name["sue"]["team"] == "Alpha" and by_name["sue"]["totp"] is False
    assert set(by_name) == {"bob", "sue"}

    changed = overt_cli("user", "role", "bob", "auditor", "--as", "sue")
    assert changed.returncode == 0, changed.stderr
    listed = {u["username"]: u for u in json.loads(overt_cli("user", "list", "--json").stdout)}
    assert listed["bob"]["role"] == "auditor" and listed["bob"]["officer"] is None

    entries = overt_cli("custody", "entries", "--json")
    if entries.returncode == 0:  # the custody CLI's own listing, where it offers one
        assert "permission-change" in entries.stdout


def test_tokens_are_shown_once_and_revocable(overt_cli) -> None:
    assert overt_cli("user", "add", "rms", "--role", "evidence-manager").returncode == 0
    bad = overt_cli("token", "create", "rms", "--name", "sync", "--scope", "manage-users")
    assert bad.returncode == 2 and "unknown scope" in bad.stderr
    made = overt_cli(
        "token", "create", "rms", "--name", "sync", "--scope", "list", "--scope", "view"
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("ovt_")
    listed = json.loads(overt_cli("token", "list", "--json").stdout)
    assert listed[0]["scopes"] == ["list", "view"] and token not in json.dumps(listed)
    assert overt_cli("token", "revoke", str(listed[0]["id"])).returncode == 0
    assert json.loads(overt_cli("token", "list", "--json").stdout)[0]["revoked"] is True
    assert overt_cli("token", "revoke", str(listed[0]["id"])).returncode == 2


def test_otp_code_matches_an_authenticator(overt_cli) -> None:
    # RFC 6238's SHA-1 test key; the code changes every 30 s, so only its form is checked.
    result = overt_cli("user", "otp-code", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    assert result.returncode == 0 and len(result.stdout.strip()) == 6
    assert result.stdout.strip().isdigit()
    assert overt_cli("user", "otp-code", "not base32!").returncode == 2
