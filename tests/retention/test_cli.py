"""The retention commands, run as real processes on a brand-new instance: output, exit
status and messages (0 done, 1 refused by the rules, 2 bad argument)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

OLD = time.time() - 60 * 86400  # the footage was filmed 60 days ago


def _register(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("officer", "add", "MP100", "--name", "PC Test", "--team", "TSG").returncode == 0
    assert cli("device", "add", "CAM-1", "--model", "Axis W120").returncode == 0
    for category in ("Non-evidential", "Evidential"):
        out = cli("retention", "policy", "assign", category, category)
        assert out.returncode == 0, out.stderr


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    os.utime(path, (OLD, OLD))
    return path


def _sidecar(tmp_path: Path, *categories: str) -> Path:
    path = tmp_path / f"sidecar-{len(categories)}-{'-'.join(categories)}.json"
    path.write_text(json.dumps({"schema": "overt.sidecar/1", "categories": list(categories)}))
    return path


def _users(cli) -> None:  # type: ignore[no-untyped-def]
    code = (
        "from overt.cli.bootstrap import setup; setup();"
        "from django.contrib.auth.models import Permission, User;"
        "p = Permission.objects.get(codename='approve_deletion');"
        "[User.objects.create_user(n, password='x').user_permissions.add(p) for n in ('alice','bob')];"
        "User.objects.create_user('carol', password='x')"
    )
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env.update(OVERT_HOME=str(cli.home), OVERT_MIN_FREE_BYTES="0")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


def test_retention_from_the_command_line(overt_cli, tmp_path: Path) -> None:
    cli = overt_cli
    _register(cli)
    clip = _file(tmp_path, "clip.mp4", b"not really video" * 100)
    unknown = cli(
        "ingest",
        str(clip),
        "--officer",
        "MP100",
        "--device",
        "CAM-1",
        "--sidecar",
        str(_sidecar(tmp_path, "Nonsense")),
    )
    assert unknown.returncode == 1 and "unknown category 'Nonsense'" in unknown.stderr
    assert "nothing was stored" in unknown.stderr
    assert not any((cli.home / "store" / "objects").glob("*/*/*"))

    out = cli(
        "ingest",
        str(clip),
        "--officer",
        "MP100",
        "--device",
        "CAM-1",
        "--json",
        "--sidecar",
        str(_sidecar(tmp_path, "Non-evidential")),
    )
    assert out.returncode == 0, out.stderr
    rec_id = json.loads(out.stdout)[0]["recording_id"]
    (row,) = json.loads(cli("recording", "list", "--json").stdout)
    assert (row["id"], row["categories"], row["state"]) == (rec_id, ["Non-evidential"], "live")
    assert row["at_expiry"] == "delete" and "31 days" in row["retention"]

    upcoming = json.loads(cli("retention", "upcoming", "--days", "7", "--json").stdout)
    assert [(u["recording"], u["stage"]) for u in upcoming] == [(rec_id, "recycle")]

    future = cli("retention", "run", "--as-of", "2099-01-01")
    assert future.returncode == 1 and "in the future" in future.stderr
    bad = cli("retention", "run", "--as-of", "next tuesday")
    assert bad.returncode == 2 and "not a date" in bad.stderr
    dry = cli("retention", "run", "--as-of", "2099-01-01", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["summary"]["would-recycle"] == 1

    nobody = cli("hold", "add", str(rec_id), "--reason", "x", "--as", "nobody")
    assert nobody.returncode == 2 and "no user 'nobody'" in nobody.stderr
    missing = cli("hold", "add", "999", "--reason", "x")
    assert missing.returncode == 2 and "no recording 999" in missing.stderr
    held = cli(
        "hold", "add", str(rec_id), "--reason", "IOPC referral", "--kind", "complaint", "--json"
    )
    assert held.returncode == 0 and json.loads(held.stdout)["kind"] == "complaint"
    run = json.loads(cli("retention", "run", "--json").stdout)
    assert run["actions"] == [] and run["summary"]["held"] == 1
    assert cli("hold", "release", str(rec_id), "--reason", "complaint closed").returncode == 0

    no_window = {"OVERT_RETENTION_RECYCLE_DAYS": "0"}
    run = json.loads(cli("retention", "run", "--json", env=no_window).stdout)
    assert [a["action"] for a in run["actions"]] == ["recycled"]
    state = json.loads(cli("recording", "list", "--state", "recycled", "--json").stdout)
    assert [r["id"] for r in state] == [rec_id] and state[0]["recoverable_until"]

    nope = cli("recording", "categorize", str(rec_id), "Nope")
    assert nope.returncode == 2 and "unknown category" in nope.stderr, nope.stderr
    again = cli("retention", "recover", str(rec_id), "--reason", "wanted")
    assert again.returncode == 1 and "due again" in again.stderr

    purge = cli("retention", "run", "--json", env=no_window)
    assert purge.returncode == 0, purge.stderr
    (action,) = json.loads(purge.stdout)["actions"]
    assert action["action"] == "purged"
    number = action["certificate"]
    assert not any((cli.home / "store" / "objects").glob("*/*/*"))

    (tomb,) = json.loads(cli("recording", "list", "--state", "deleted", "--json").stdout)
    assert (tomb["recording"], tomb["certificate"]) == (rec_id, number)
    cert = json.loads(cli("retention", "certificate", number).stdout)
    assert cert["what"]["objects"][0]["size"] == len(clip.read_bytes())
    files = cli("retention", "certificate", number, "--out", str(tmp_path / "certs"))
    assert files.returncode == 0, files.stderr
    assert json.loads((tmp_path / "certs" / f"{number}.json").read_text()) == cert
    pdf = tmp_path / "certs" / f"{number}.pdf"
    if pdf.exists():
        assert pdf.read_bytes().startswith(b"%PDF")
    else:
        assert "no PDF" in files.stderr
    late = cli("hold", "add", str(rec_id), "--reason", "too late")
    assert late.returncode == 1 and number in late.stderr
    entries = cli("custody", "entries", "--object", cert["what"]["objects"][0]["sha256"])
    for action_name in ("ingest", "category-change", "hold-set", "hold-release", "delete", "purge"):
        assert action_name in entries.stdout


def test_early_deletion_needs_two_people_on_the_command_line(overt_cli, tmp_path: Path) -> None:
    cli = overt_cli
    _register(cli)
    _users(cli)
    clip = _file(tmp_path, "early.mp4", b"mistaken recording" * 50)
    out = cli(
        "ingest",
        str(clip),
        "--officer",
        "MP100",
        "--device",
        "CAM-1",
        "--json",
        "--sidecar",
        str(_sidecar(tmp_path, "Evidential")),
    )
    rec_id = str(json.loads(out.stdout)[0]["recording_id"])
    no_as = cli("deletion", "request", rec_id, "--reason", "x")
    assert no_as.returncode == 2 and "--as" in no_as.stderr
    carol = cli("deletion", "request", rec_id, "--reason", "x", "--as", "carol")
    assert carol.returncode == 1 and "retention.approve_deletion" in carol.stderr
    req = cli(
        "deletion", "request", rec_id, "--reason", "recorded by mistake", "--as", "alice", "--json"
    )
    assert req.returncode == 0, req.stderr
    req_id = str(json.loads(req.stdout)["id"])
    self_approve = cli("deletion", "approve", req_id, "--reason", "ok", "--as", "alice")
    assert self_approve.returncode == 1 and "two different people" in self_approve.stderr
    approved = cli("deletion", "approve", req_id, "--reason", "agreed", "--as", "bob", "--json")
    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout)["status"] == "approved"
    (row,) = json.loads(cli("deletion", "list", "--all", "--json").stdout)
    assert (row["requested_by"], row["decided_by"]) == ("alice", "bob")
    (rec,) = json.loads(cli("recording", "list", "--json").stdout)
    assert rec["state"] == "recycled"


def test_policy_set_and_list(overt_cli) -> None:
    out = overt_cli(
        "retention",
        "policy",
        "set",
        "Conviction (CPIA)",
        "--keep",
        "6m",
        "--from",
        "conviction",
        "--then",
        "delete",
        "--description",
        "6 months after conviction",
    )
    assert out.returncode == 0, out.stderr
    assert (
        overt_cli("retention", "policy", "assign", "Conviction", "Conviction (CPIA)").returncode
        == 0
    )
    data = json.loads(overt_cli("retention", "policy", "list", "--json").stdout)
    rules = {p["name"]: p for p in data["policies"]}
    assert rules["Conviction (CPIA)"]["rule"] == "delete 6 months after a conviction"
    assert rules["Conviction (CPIA)"]["categories"] == ["Conviction"]
    assert rules["Non-evidential"]["rule"] == "delete 31 days after the recording time"
    assert rules["Evidential"]["rule"] == "review 6 years after the recording time"
    assert data["uncategorised_default"] == "review 31 days after the recording time"
    for args, message in [
        (
            ("retention", "policy", "set", "X", "--keep", "forever", "--then", "delete"),
            "not a retention period",
        ),
        (("retention", "policy", "assign", "Cat", "No such policy"), "unknown retention policy"),
        (("retention", "certificate", "DC-999999"), "no deletion certificate"),
    ]:
        out = overt_cli(*args)
        assert out.returncode == 2 and message in out.stderr, (args, out.returncode, out.stderr)
