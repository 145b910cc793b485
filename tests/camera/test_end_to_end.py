"""The real `overt-camera` process against a real overt (the whole app on the test
database, both engines): enrolment, recording, offload, verification at ingest, and the
faults the issue names."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from overt_camera.home import Home

from .conftest import enrolment_code, fleet_profile, overt, recordings, spool_files
from .support_camera import AgentProcess, camera_command, peer_entry, run_camera


def _enrol(home: Path, url: str, serial: str, **settings: object) -> Home:
    code = enrolment_code(serial)
    done = run_camera("enrol", "--home", str(home), "--server", url, "--code", code,
                      "--serial", serial, "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["serial"] == serial
    base = ["buffer_seconds=2", "resolution=640x360", "fps=10", "offload_interval_seconds=1"]
    extra = [f"{k}={json.dumps(v)}" for k, v in settings.items()]
    for item in base + extra:
        assert run_camera("config", "--home", str(home), "--set", item).returncode == 0
    return Home(home)


def _record(agent: AgentProcess, seconds: float) -> dict:
    agent.wait_buffered(2)
    started = agent.trigger("start", "stop and search").json()
    time.sleep(seconds)
    assert agent.trigger("stop", "search over").status_code == 200
    return started


def _offload(home: Home) -> tuple[int, dict]:
    done = run_camera("offload", "--home", str(home.root), "--json")
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def _recording(serial: str) -> dict:
    rows = [row for row in recordings() if row["device"] == serial]
    assert rows, f"no recording of {serial} in overt"
    return rows[-1]


def test_a_recording_reaches_overt_verified_with_its_pre_event(overt_url, tmp_path) -> None:
    other = _enrol(tmp_path / "other", overt_url, "LENS-0")
    home = _enrol(tmp_path / "cam", overt_url, "LENS-1")
    assert (home.key_path.stat().st_mode & 0o777) == 0o600
    # The force's other cameras' keys come from overt at enrolment, for peer start.
    (peer,) = home.peers()
    assert peer == peer_entry(other, "LENS-0")
    assert json.loads((home.root / "clock.json").read_text())["clock_offset_s"] is not None
    agent = AgentProcess(home, args=("--offload", "auto")).start()
    try:
        started = _record(agent, 10)  # 2 s of pre-event and 10 s: two 10 s segments
        status = agent.wait_for(lambda s: s["pending_segments"] == 0 and s["server_reachable"],
                                "offload", timeout=120)  # fmt: skip
        assert status["last_error"] is None, status
    finally:
        agent.stop()
    assert not list(home.spool.glob("*.mp4"))  # deleted only after the server confirmed
    log = [json.loads(x) for x in (home.logs / "offloaded.jsonl").read_text().splitlines()]
    assert len(log) >= 2 and {entry["capture_signature"] for entry in log} >= {"verified"}
    row = _recording("LENS-1")
    assert row["capture_signature"] == "verified", row
    assert abs(row["pre_event_seconds"] - started["pre_event_seconds"]) < 0.01
    assert abs(row["pre_event_seconds"] - 2) <= 1.0


def test_enrolment_refusals_are_clear(overt_url, tmp_path) -> None:
    code = enrolment_code("LENS-2")
    home = tmp_path / "cam"
    wrong = run_camera("enrol", "--home", str(home), "--server", overt_url, "--code",
                       "AAAA-BBBB-CCCC", "--serial", "LENS-2")  # fmt: skip
    assert wrong.returncode == 1 and "refused" in wrong.stderr
    assert not (home / "device.key").exists()  # nothing kept from a refused enrolment
    right = run_camera("enrol", "--home", str(home), "--server", overt_url, "--code", code,
                       "--serial", "LENS-2")  # fmt: skip
    assert right.returncode == 0, right.stderr
    again = run_camera("enrol", "--home", str(home), "--server", overt_url, "--code", code,
                       "--serial", "LENS-2")  # fmt: skip
    assert again.returncode == 1 and "expired or was used" in again.stderr
    from overt.ingest.models import EnrolmentCode

    stale = enrolment_code("LENS-2")
    EnrolmentCode.objects.filter(used_at__isnull=True).update(expires_at="2020-01-01T00:00:00Z")
    expired = run_camera("enrol", "--home", str(home), "--server", overt_url, "--code", stale,
                         "--serial", "LENS-2")  # fmt: skip
    assert expired.returncode == 1 and "expired" in expired.stderr
    overt("device", "revoke", "LENS-2")
    revoked = run_camera("enrol", "--home", str(home), "--server", overt_url, "--code", code,
                         "--serial", "LENS-2")  # fmt: skip
    assert revoked.returncode == 1 and "revoked" in revoked.stderr
    refused = run_camera("offload", "--home", str(home), "--json")  # its token is revoked
    assert any("401" in error for error in json.loads(refused.stdout)["errors"])
    unreachable = run_camera("enrol", "--home", str(tmp_path / "other"), "--server",
                             "http://127.0.0.1:9", "--code", code, "--serial", "LENS-2")  # fmt: skip
    assert unreachable.returncode == 1 and "did not answer" in unreachable.stderr


def test_kill_9_then_restart_offloads_every_closed_fragment_marked_interrupted(
    overt_url, tmp_path
) -> None:
    home = _enrol(tmp_path / "cam", overt_url, "LENS-3")
    agent = AgentProcess(home, args=("--offload", "manual")).start()
    agent.wait_buffered(2)
    agent.trigger("start", "holster")
    agent.wait_for(lambda s: s["pending_segments"] == 0 and s["state"] == "recording", "start")
    time.sleep(4)
    agent.kill()
    code, report = _offload(home)  # no agent runs: the offload recovers the segment first
    assert code == 0, report
    assert report["pending_segments"] == 0 and len(report["offloaded"]) == 1
    row = _recording("LENS-3")
    assert row["capture_signature"] == "verified", row
    assert any("interrupted" in problem for problem in row["capture_problems"])


def test_the_server_dying_mid_offload_resumes_and_deletes_nothing_early(
    overt_url, relay, tmp_path
) -> None:
    fleet_profile(offload_bandwidth_kbps=512)  # slow enough to cut the line mid-upload
    home = _enrol(tmp_path / "cam", overt_url, "LENS-4", offload_chunk_bytes=65536,
                  bitrate_kbps=2000)  # fmt: skip
    agent = AgentProcess(home, args=("--offload", "manual")).start()
    _record(agent, 6)
    agent.stop()
    config = json.loads(home.config_path.read_text())
    home.config_path.write_text(json.dumps(config | {"server": relay.url}))
    before = spool_files(home.root)
    offload = subprocess.Popen(camera_command("offload", "--home", str(home.root), "--json"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while relay.relayed < 150_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    relay.cut()  # the server is gone mid-upload
    out, err = offload.communicate(timeout=120)
    assert offload.returncode == 1, (out, err)
    assert json.loads(out)["pending_segments"] >= 1
    assert set(before) <= set(spool_files(home.root))  # nothing deleted early
    assert any(name.endswith(".upload.json") for name in spool_files(home.root))
    saved = next(home.spool.glob("*.upload.json")).read_text()
    from overt.uploads.models import Upload

    upload = Upload.objects.get(id=json.loads(saved)["location"].rsplit("/", 1)[1])
    assert 0 < upload.offset < upload.length  # part of it is on the server, durably
    relay.restore()
    code, report = _offload(home)
    assert code == 0, report
    assert report["offloaded"][0]["upload"] == json.loads(saved)["location"]  # resumed
    assert Upload.objects.filter(filename=upload.filename).count() == 1  # not started again
    assert _recording("LENS-4")["capture_signature"] == "verified"


def test_an_altered_segment_is_flagged_broken_and_kept(overt_url, tmp_path) -> None:
    home = _enrol(tmp_path / "cam", overt_url, "LENS-5")
    agent = AgentProcess(home, args=("--offload", "manual")).start()
    _record(agent, 3)
    agent.stop()
    segment = next(home.spool.glob("*.mp4"))
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte changed after signing
    segment.write_bytes(bytes(data))
    code, report = _offload(home)
    assert code == 1 and "kept on the device" in report["kept"][0]["reason"]
    assert segment.exists()  # the device keeps it: a person decides
    assert _recording("LENS-5")["capture_signature"] == "broken"


def test_a_removed_segment_shows_as_a_gap(overt_url, tmp_path) -> None:
    home = _enrol(tmp_path / "cam", overt_url, "LENS-6")
    agent = AgentProcess(home, args=("--offload", "manual")).start()
    _record(agent, 2)
    _record(agent, 2)
    agent.stop()
    for path in home.spool.glob("LENS-6-000001-*"):
        path.unlink()  # the first recording removed from the device
    code, report = _offload(home)
    assert code == 0, report
    row = _recording("LENS-6")
    assert row["capture_signature"] == "gap", row
