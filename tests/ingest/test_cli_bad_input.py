"""`overt ingest` and `overt watch` against bad input, as real processes (issue 11,
items 8, 10, 11, 25): a message and an exit status, never a traceback; a dock watcher
that quarantines a bad file and goes on; the camera's assignment used when no officer
is named."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from support_cli import run_overt

NESTED = b"[" * 100_000 + b"]" * 100_000
# At the calendar's edge, a legal-looking offset overflows when converted to UTC.
OVERFLOWING = json.dumps(
    {"schema": "overt.sidecar/1", "clip": {"started_at": "9999-12-31T23:59:59-23:59"}}
).encode()
FAR_FUTURE = json.dumps(
    {"schema": "overt.sidecar/1", "markers": [{"at": "9999-01-01T00:00:00Z", "text": "x"}]}
).encode()


def _register(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("officer", "add", "MP100", "--name", "PC Test").returncode == 0
    assert cli("device", "add", "CAM-1", "--model", "W").returncode == 0


def _rows(home: Path, sql: str) -> list[tuple]:
    return sqlite3.connect(home / "overt.sqlite3").execute(sql).fetchall()


def _no_traceback(out) -> None:  # type: ignore[no-untyped-def]
    assert "Traceback" not in out.stderr, out.stderr[-2000:]


def test_every_argument_shape_gets_a_message_and_an_exit_status(overt_cli, clips, tmp_path) -> None:
    _register(overt_cli)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(clips["good"].read_bytes())
    flags = ("--officer", "MP100", "--device", "CAM-1")
    cases = {
        (str(folder),): "is a directory: name the files in it",
        ("/dev/null",): "not a regular file or a pipe",
        (str(tmp_path / "missing.mp4"),): "cannot read",
    }
    for args, message in cases.items():
        out = overt_cli("ingest", *args, *flags)
        _no_traceback(out)
        assert out.returncode == 1 and message in out.stderr, (args, out.stderr)
    for name, raw, message in [
        ("nested.json", NESTED, "nested deeper than 16 levels"),
        ("overflow.json", OVERFLOWING, "clip.started_at"),
        ("future.json", FAR_FUTURE, "outside the accepted range"),
    ]:
        sidecar = tmp_path / name
        sidecar.write_bytes(raw)
        out = overt_cli("ingest", str(clips["good"]), *flags, "--sidecar", str(sidecar))
        _no_traceback(out)
        assert out.returncode == 1 and message in out.stderr, (name, out.stderr)
    # Nothing was stored or catalogued by any of them.
    assert not list((overt_cli.home / "store" / "objects").rglob("*/*/*"))
    assert _rows(overt_cli.home, "SELECT count(*) FROM evidence_original") == [(0,)]
    # A good file among bad ones still goes in, and the status reports the bad one.
    mixed = overt_cli("ingest", str(folder), str(folder / "clip.mp4"), *flags)
    _no_traceback(mixed)
    assert mixed.returncode == 1 and mixed.stdout.startswith("stored")
    missing_dock = overt_cli("watch", str(tmp_path / "no-such-dock"), "--once", *flags)
    _no_traceback(missing_dock)
    assert missing_dock.returncode == 1 and "does not exist" in missing_dock.stderr


def test_ingest_without_officer_uses_the_cameras_assignment(overt_cli, clips) -> None:
    _register(overt_cli)
    # The good clip was recorded at 2026-11-20T14:00:00Z (its container says so).
    assign = overt_cli("device", "assign", "CAM-1", "MP100", "--from", "2026-11-01")
    assert assign.returncode == 0, assign.stderr
    out = overt_cli("ingest", str(clips["good"]), "--device", "CAM-1", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["status"] == "stored"
    officer = _rows(
        overt_cli.home,
        "SELECT o.number FROM evidence_recording r JOIN evidence_officer o ON o.id = r.officer_id",
    )
    assert officer == [("MP100",)]


def test_watch_quarantines_bad_files_goes_on_and_does_not_retry_them(tmp_path, clips) -> None:
    home, dock = tmp_path / "home", tmp_path / "dock"
    dock.mkdir()
    assert run_overt(home, "officer", "add", "MP100", "--name", "PC Test").returncode == 0
    assert run_overt(home, "device", "add", "CAM-1", "--model", "W").returncode == 0
    # Sorted, the two bad files come before the good one.
    (dock / "a-nested.mp4").write_bytes(clips["silent"].read_bytes())
    (dock / "a-nested.mp4.json").write_bytes(NESTED)
    (dock / "b-overflow.mp4").write_bytes(clips["noise"].read_bytes())
    (dock / "b-overflow.mp4.json").write_bytes(OVERFLOWING)
    (dock / "b2-wrong-hash.mp4").write_bytes(clips["truncated"].read_bytes())
    (dock / "b2-wrong-hash.mp4.json").write_text(
        json.dumps({"schema": "overt.sidecar/1", "sha256": "0" * 64})
    )
    (dock / "c-good.mp4").write_bytes(clips["good"].read_bytes())
    args = ("watch", str(dock), "--officer", "MP100", "--device", "CAM-1", "--once")
    env = {"OVERT_WATCH_SETTLE_SECONDS": "0.3"}

    out = run_overt(home, *args, env=env)
    _no_traceback(out)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("quarantined") == 3, out.stderr
    assert (dock / ".ingested" / "c-good.mp4").read_bytes() == clips["good"].read_bytes()
    quarantine = dock / ".quarantine"
    for name, source, reason in [
        ("a-nested.mp4", clips["silent"], "nested deeper than 16 levels"),
        ("b-overflow.mp4", clips["noise"], "outside the range a date can hold"),
        ("b2-wrong-hash.mp4", clips["truncated"], "declared sha256 0000"),
    ]:
        assert not (dock / name).exists() and not (dock / f"{name}.json").exists()
        assert (quarantine / name).read_bytes() == source.read_bytes()  # kept, byte for byte
        assert (quarantine / f"{name}.json").exists()
        text = (quarantine / f"{name}.reason.txt").read_text()
        assert reason in text
        assert f"sha256: {hashlib.sha256(source.read_bytes()).hexdigest()}" in text
    entries = [
        json.loads(e)
        for (e,) in _rows(home, "SELECT entry FROM custody_custodyentry WHERE action = 'verify'")
    ]
    assert sorted(e["details"]["filename"] for e in entries) == [
        "a-nested.mp4",
        "b-overflow.mp4",
        "b2-wrong-hash.mp4",
    ]
    assert all(e["details"]["ok"] is False for e in entries)
    assert _rows(home, "SELECT filename FROM evidence_original") == [("c-good.mp4",)]

    # A restart finds nothing to do: the bad files are out of the dock, not retried.
    before = sorted(p.name for p in quarantine.iterdir())
    again = run_overt(home, *args, env=env)
    assert again.returncode == 0 and "quarantined" not in again.stderr, again.stderr
    assert sorted(p.name for p in quarantine.iterdir()) == before
    assert _rows(home, "SELECT count(*) FROM custody_custodyentry WHERE action = 'verify'") == [
        (3,)
    ]


def test_watch_survives_a_dock_it_cannot_tidy(tmp_path, clips) -> None:
    """The file is catalogued but cannot be moved out (.ingested is not a folder): no
    traceback, the file stays, and it is not delivered again on every pass."""
    home, dock = tmp_path / "home", tmp_path / "dock"
    dock.mkdir()
    (dock / ".ingested").write_text("not a folder")
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
    _no_traceback(out)
    assert out.returncode == 0
    assert "ingested but not moved out of the dock" in out.stderr
    assert (dock / "clip.mp4").exists()
    assert _rows(home, "SELECT count(*) FROM evidence_original") == [(1,)]
    assert _rows(home, "SELECT count(*) FROM custody_custodyentry WHERE action = 'ingest'") == [
        (1,)
    ]
