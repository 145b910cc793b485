"""`overt fleet` and `overt migrate`, as an operator types them: the same services,
messages and exit statuses instead of tracebacks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support_cli import run_overt as _run_overt


def run_overt(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run_overt(home, *args, timeout=600)  # a loaded machine starts Django slowly


def test_fleet_commands_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_overt(home, "migrate").returncode == 0
    check = run_overt(home, "migrate", "--check")
    assert check.returncode == 0 and "schema up to date" in check.stdout
    for args in (
        ("officer", "add", "AR1", "--name", "PC One"),
        ("device", "add", "CAM-1", "--model", "VB400"),
    ):
        assert run_overt(home, *args).returncode == 0
    made = run_overt(home, "fleet", "profile", "armed", "--buffer", "60", "--model", "VB400")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["settings"]["buffer_seconds"] == 60
    bad = run_overt(home, "fleet", "profile", "armed", "--buffer", "121")
    assert bad.returncode == 2 and "buffer_seconds must be between 0 and 120" in bad.stderr
    assert (
        run_overt(
            home,
            "fleet",
            "assign",
            "CAM-1",
            "AR1",
            "--from",
            "2026-12-01 08:00:00",
            "--until",
            "2026-12-01 16:00:00",
        ).returncode
        == 0
    )
    clash = run_overt(home, "fleet", "assign", "CAM-1", "AR1", "--from", "2026-12-01 12:00:00")
    assert clash.returncode == 1 and "already assigned" in clash.stderr
    assert "Traceback" not in clash.stderr
    listed = json.loads(run_overt(home, "fleet", "list", "--json").stdout)
    assert [(r["serial"], r["health"], r["profile"]) for r in listed] == [
        ("CAM-1", "attention", "armed")
    ]
    assert "never docked" in listed[0]["reasons"]
    gone = run_overt(home, "fleet", "check-in", "CAM-1")
    assert gone.returncode == 1 and "not checked out" in gone.stderr
