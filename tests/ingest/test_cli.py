"""The `overt` CLI contract, run as a real process on a brand-new OVERT_HOME."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from support_cli import run_overt


def _register(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("officer", "add", "MP100", "--name", "PC Test", "--team", "TSG").returncode == 0
    assert cli("device", "add", "CAM-1", "--model", "Axis W120").returncode == 0


def test_ingest_json_contract_on_a_brand_new_home(overt_cli, clips) -> None:
    _register(overt_cli)
    out = overt_cli(
        "ingest",
        str(clips["good"]),
        str(clips["corrupt"]),
        "--officer",
        "MP100",
        "--device",
        "CAM-1",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [set(r) >= {"id", "sha256", "size", "status", "playable"} for r in rows] == [True, True]
    assert [(r["status"], r["playable"]) for r in rows] == [("stored", True), ("stored", False)]
    assert rows[0]["size"] == clips["good"].stat().st_size

    again = overt_cli(
        "ingest", str(clips["good"]), "--officer", "MP100", "--device", "CAM-1", "--json"
    )
    assert json.loads(again.stdout)[0]["status"] == "duplicate"

    db = sqlite3.connect(overt_cli.home / "overt.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_refusals_exit_non_zero_with_a_message(overt_cli, clips) -> None:
    _register(overt_cli)
    out = overt_cli("ingest", str(clips["good"]), "--officer", "MP999", "--device", "CAM-1")
    assert out.returncode == 1
    assert "unknown officer 'MP999'" in out.stderr
    missing = overt_cli("ingest", "/nonexistent.mp4", "--officer", "MP100", "--device", "CAM-1")
    assert missing.returncode == 1 and "cannot read /nonexistent.mp4" in missing.stderr
    dup = overt_cli("officer", "add", "MP100", "--name", "Again")
    assert dup.returncode == 1 and "already exists" in dup.stderr


def test_bad_sidecar_is_refused_before_anything_is_stored(overt_cli, clips, tmp_path) -> None:
    _register(overt_cli)
    sidecar = tmp_path / "s.json"
    sidecar.write_bytes(b'{"schema": "overt.sidecar/1", "officer": "\xff"}')
    out = overt_cli("ingest", str(clips["good"]), "--device", "CAM-1", "--sidecar", str(sidecar))
    assert out.returncode == 1 and "not valid UTF-8" in out.stderr
    assert not list((overt_cli.home / "store" / "objects").rglob("*"))


def test_config_masks_secrets_and_names_bad_values(overt_cli) -> None:
    env = {
        "OVERT_SECRET_KEY": "hunter2",
        "OVERT_DATABASE_URL": "postgresql://overt:pa55word@db.example:5432/overt",
    }
    out = overt_cli("config", "--json", env=env)
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert shown["secret_key"] == "********"
    assert "pa55word" not in out.stdout and "hunter2" not in out.stdout
    assert shown["database_url"] == "postgresql://overt:********@db.example:5432/overt"
    bad = overt_cli("config", env={"OVERT_PROXY_MAX_HEIGHT": "9000"})
    assert bad.returncode == 2 and "OVERT_PROXY_MAX_HEIGHT" in bad.stderr
    typo = overt_cli("config", env={"OVERT_PROXY_MAX_HIGHT": "720"})
    assert typo.returncode == 2 and "unknown setting" in typo.stderr


def _parts(home: Path) -> list[Path]:
    return list((home / "store" / "tmp").glob("*.part"))


def test_sigkill_mid_stream_leaves_no_row_and_the_next_start_cleans_up(overt_cli, tmp_path) -> None:
    _register(overt_cli)
    fifo = tmp_path / "camera.mp4"
    os.mkfifo(fifo)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env.update({"OVERT_HOME": str(overt_cli.home), "OVERT_MIN_FREE_BYTES": "0"})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "overt",
            "ingest",
            str(fifo),
            "--officer",
            "MP100",
            "--device",
            "CAM-1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with open(fifo, "wb") as writer:
        writer.write(os.urandom(1 << 20))
        writer.flush()
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in _parts(overt_cli.home)):
            assert time.monotonic() < deadline, "ingest never started writing"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _parts(overt_cli.home), "the killed writer's partial file should still be there"
    db = sqlite3.connect(overt_cli.home / "overt.sqlite3")
    assert db.execute("SELECT count(*) FROM evidence_original").fetchone()[0] == 0
    # (registering the officer and the camera wrote entries of their own)
    ingests = "SELECT count(*) FROM custody_custodyentry WHERE action = 'ingest'"
    assert db.execute(ingests).fetchone()[0] == 0
    assert not list((overt_cli.home / "store" / "objects").rglob("*/*/*"))
    assert overt_cli("officer", "list").returncode == 0  # any next start
    assert _parts(overt_cli.home) == []


def test_a_failing_write_leaves_nothing_partial(overt_cli, tmp_path) -> None:
    """A real write failure (the file-size limit, as a full disk would) mid-object."""
    _register(overt_cli)
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(12 << 20))
    script = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (5 << 20, 5 << 20));"
        "from overt.cli.main import main; sys.argv[0] = 'overt'; main()"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env.update({"OVERT_HOME": str(overt_cli.home), "OVERT_MIN_FREE_BYTES": "0"})
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "ingest",
            str(big),
            "--officer",
            "MP100",
            "--device",
            "CAM-1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 1
    assert "writing to the local store failed" in out.stderr
    assert _parts(overt_cli.home) == []
    assert not list((overt_cli.home / "store" / "objects").rglob("*/*/*"))
    db = sqlite3.connect(overt_cli.home / "overt.sqlite3")
    assert db.execute("SELECT count(*) FROM evidence_original").fetchone()[0] == 0


def test_watch_once_takes_settled_files(tmp_path, clips) -> None:
    home = tmp_path / "home"
    dock = tmp_path / "dock"
    dock.mkdir()
    assert run_overt(home, "officer", "add", "MP100", "--name", "PC Test").returncode == 0
    assert run_overt(home, "device", "add", "CAM-1", "--model", "W").returncode == 0
    (dock / "clip.mp4").write_bytes(clips["good"].read_bytes())
    out = run_overt(
        home,
        "watch",
        str(dock),
        "--officer",
        "MP100",
        "--device",
        "CAM-1",
        "--once",
        env={"OVERT_WATCH_SETTLE_SECONDS": "0.3"},
    )
    assert out.returncode == 0, out.stderr
    assert not (dock / "clip.mp4").exists()
    assert (dock / ".ingested" / "clip.mp4").read_bytes() == clips["good"].read_bytes()
