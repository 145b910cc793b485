"""`overt case` and `overt share` as a person runs them: a real instance, real ingest."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

PASSWORD = b"a long enough password\n"


def test_case_share_receipt_and_bundle_from_the_command_line(overt_cli, clips, tmp_path) -> None:
    assert overt_cli("officer", "add", "MP1", "--name", "PC One").returncode == 0
    assert overt_cli("device", "add", "CAM-1", "--model", "BWV").returncode == 0
    assert (
        overt_cli(
            "user", "add", "eve", "--role", "evidence-manager", "--password-stdin", input=PASSWORD
        ).returncode
        == 0
    )
    ingested = overt_cli(
        "ingest", str(clips["good"]), "--officer", "MP1", "--device", "CAM-1", "--json"
    )
    assert ingested.returncode == 0, ingested.stderr
    refused = overt_cli("case", "open", "URN-1", "Robbery", "--as", "nobody")
    assert refused.returncode == 2 and "no user 'nobody'" in refused.stderr
    opened = overt_cli("case", "open", "URN-1", "Robbery", "--as", "eve")
    assert opened.returncode == 0, opened.stderr
    case_id = opened.stdout.split()[1].rstrip(":")
    assert overt_cli("case", "open", "URN-1", "Again", "--as", "eve").returncode == 1  # 409
    added = overt_cli("case", "add", case_id, "--recording", "1", "--as", "eve")
    assert added.returncode == 0, added.stderr
    missing = overt_cli("case", "add", case_id, "--recording", "99", "--as", "eve")
    assert missing.returncode == 2 and "no such recording" in missing.stderr
    shown = json.loads(overt_cli("case", "show", case_id, "--as", "eve").stdout)
    assert [i["recording"] for i in shown["items"]] == [1]
    made = overt_cli(
        "share",
        "create",
        "--case",
        case_id,
        "--name",
        "Jane",
        "--email",
        "jane@cps.example",
        "--days",
        "14",
        "--as",
        "eve",
    )
    assert made.returncode == 0, made.stderr
    share_id = made.stdout.split()[1]
    assert "code: " in made.stdout
    too_long = overt_cli(
        "share",
        "create",
        "--case",
        case_id,
        "--name",
        "J",
        "--email",
        "j@x.example",
        "--days",
        "91",
        "--as",
        "eve",
    )
    assert too_long.returncode == 2
    receipt = json.loads(overt_cli("share", "receipt", share_id, "--as", "eve").stdout)
    assert receipt["recipient"]["name"] == "Jane" and receipt["share"]["state"] == "active"
    assert overt_cli("share", "revoke", share_id, "--as", "eve").returncode == 0
    out = tmp_path / "bundle.zip"
    bundled = overt_cli(
        "case",
        "bundle",
        case_id,
        str(out),
        "--category",
        "Investigation",
        "--text",
        "to CPS",
        "--as",
        "eve",
    )
    assert bundled.returncode == 0, bundled.stderr
    names = zipfile.ZipFile(out).namelist()
    assert any("/originals/" in n for n in names) and any(n.endswith("mg6c.pdf") for n in names)
    closed = overt_cli("case", "close", case_id, "--reason", "trial over", "--as", "eve")
    assert closed.returncode == 0, closed.stderr
    assert Path(out).stat().st_size > clips["good"].stat().st_size


def test_someone_is_taken_off_a_case_from_the_command_line(overt_cli) -> None:
    for name, role in (("eve", "evidence-manager"), ("crown", "prosecutor")):
        made = overt_cli("user", "add", name, "--role", role, "--password-stdin", input=PASSWORD)
        assert made.returncode == 0, made.stderr
    case_id = overt_cli("case", "open", "URN-9", "Theft", "--as", "eve").stdout.split()[1]
    case_id = case_id.rstrip(":")
    put = overt_cli("case", "member", case_id, "crown", "--part", "prosecutor", "--as", "eve")
    assert put.returncode == 0, put.stderr
    assert overt_cli("case", "show", case_id, "--as", "crown").returncode == 0
    refused = overt_cli("case", "end-member", case_id, "eve", "--as", "crown")
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    ended = overt_cli("case", "end-member", case_id, "crown", "--as", "eve")
    assert ended.returncode == 0, ended.stderr
    assert ended.stdout.strip() == f"crown is off case {case_id}"
    gone = overt_cli("case", "show", case_id, "--as", "crown")
    assert gone.returncode == 2 and "no such case" in gone.stderr
    again = overt_cli("case", "end-member", case_id, "crown", "--as", "eve")
    assert again.returncode == 1 and "crown is not on case" in again.stderr
