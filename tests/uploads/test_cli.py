"""`overt device token`, `overt device revoke` and `overt axis connection-file`, run as real
processes on a brand-new instance."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat


def _camera(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("device", "add", "CAM-7", "--model", "Test Cam").returncode == 0


def test_token_is_printed_once_and_kept_only_as_a_hash(overt_cli) -> None:
    _camera(overt_cli)
    out = overt_cli("device", "token", "CAM-7")
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert token.startswith("ovt_") and len(token) > 40
    database = overt_cli.home / "overt.sqlite3"
    db = sqlite3.connect(database)
    [(digest, revoked)] = db.execute("SELECT token_hash, revoked_at FROM uploads_devicetoken")
    assert digest == hashlib.sha256(token.encode()).hexdigest() and revoked is None
    db.close()
    for path in overt_cli.home.glob("overt.sqlite3*"):
        assert token.encode() not in path.read_bytes()

    second = overt_cli("device", "token", "CAM-7", "--dock").stdout.strip()
    assert second != token
    db = sqlite3.connect(database)
    rows = db.execute(
        "SELECT dock, revoked_at IS NOT NULL FROM uploads_devicetoken ORDER BY id"
    ).fetchall()
    assert rows == [(0, 1), (1, 0)]  # a new token revokes the old one

    revoked = overt_cli("device", "revoke", "CAM-7")
    assert revoked.returncode == 0 and "1 token(s) revoked" in revoked.stdout
    assert db.execute(
        "SELECT COUNT(*) FROM uploads_devicetoken WHERE revoked_at IS NULL"
    ).fetchone() == (0,)
    entries = [
        json.loads(e)["details"]["what"]
        for (e,) in db.execute(
            "SELECT entry FROM custody_custodyentry WHERE action = 'permission-change' ORDER BY \"index\""
        )
    ]
    assert entries == [
        "device upload token issued",
        "device upload token issued",
        "device upload tokens revoked",
    ]


def test_token_for_an_unknown_device_is_refused(overt_cli) -> None:
    out = overt_cli("device", "token", "NOPE")
    assert out.returncode == 1
    assert "unknown device 'NOPE'" in out.stderr


def test_connection_file(overt_cli, tmp_path) -> None:
    pem = tmp_path / "cert.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nTUlJQmZha2U=\nQUJD\n-----END CERTIFICATE-----\n")
    out = overt_cli(
        "axis",
        "connection-file",
        "--url",
        "https://overt.example.police.uk:8443",
        "--site-name",
        "North Division",
        "--certificate",
        str(pem),
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["AuthenticationTokenURI"] == ["https://overt.example.police.uk:8443/auth/v1.0"]
    assert data["HTTPSCertificate"] == ["TUlJQmZha2U=QUJD"]
    assert data["SiteName"] == "North Division"
    assert data["BlobAPIUserName"] == "axis"
    key_file = overt_cli.home / "axis_key"
    assert data["BlobAPIKey"] == key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert data["WantEncryption"] is False and data["ContainerType"] == "mkv"
    assert len(out.stdout.encode()) < 64 * 1024

    again = json.loads(overt_cli("axis", "connection-file", "--url", "https://x.example").stdout)
    assert again["BlobAPIKey"] == data["BlobAPIKey"]  # generated once

    loopback = overt_cli("axis", "connection-file")
    assert loopback.returncode == 0 and "loopback" in loopback.stderr

    encrypted = overt_cli("axis", "connection-file", "--want-encryption")
    assert encrypted.returncode == 1
    assert "not supported yet" in encrypted.stderr
