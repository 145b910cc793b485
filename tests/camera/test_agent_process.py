"""The real `overt-camera run` process: triggers through the control API, fragments on
disk, segments and manifests, kill -9 and recovery, SIGTERM, the timer, a full disk."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import av
import pytest
import requests

from overt_camera import fmp4, keys
from overt_camera.config import AgentConfig, to_dict
from overt_camera.home import Home
from overt_camera.manifest import parse_rfc3339

from .support_camera import AgentProcess, manifests, offline_home, run_camera


@pytest.fixture
def agent(tmp_path: Path):
    started: list[AgentProcess] = []

    def make(**settings: object) -> AgentProcess:
        home = offline_home(tmp_path / f"cam{len(started)}", **settings)
        process = AgentProcess(home).start()
        started.append(process)
        return process

    yield make
    for process in started:
        if process.proc is not None:
            process.kill()


def _frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def _verified(home: Home) -> None:
    public = keys.public_raw(keys.load(home.key_path))
    for path in sorted(home.spool.glob("*.manifest.json")):
        signature = path.with_suffix(".sig").read_bytes()
        assert keys.verify(public, signature, path.read_bytes()), path.name
        record = json.loads(path.read_bytes())
        segment = path.with_name(path.name.replace(".manifest.json", ".mp4"))
        assert record["sha256"] == hashlib.sha256(segment.read_bytes()).hexdigest()
        assert record["size"] == segment.stat().st_size


def test_start_and_stop_make_a_signed_recording_with_its_pre_event(agent) -> None:
    camera = agent(buffer_seconds=2, segment_seconds=5)
    camera.wait_buffered(2.5)
    started = camera.trigger("start", "holster drawn", kind="sensor", source="holster")
    assert started.status_code == 200, started.text
    status = started.json()
    assert status["state"] == "recording" and status["recording_id"]
    assert abs(status["pre_event_seconds"] - 2) <= 1.0  # within one GOP (1 s)
    # Fragments reach the disk while the recording runs.
    first = camera.home.spool / f"CAM-1-{status['device_sequence']:06d}-0000.mp4"
    assert first.exists() and fmp4.scan(first).fragments >= 1
    camera.wait_for(lambda s: s["segment"] >= 1, "a second segment")
    assert camera.trigger("stop", kind="sensor", source="holster").status_code == 400
    stopped = camera.trigger("stop", "incident over")
    assert stopped.status_code == 200 and stopped.json()["state"] == "buffering"
    records = manifests(camera.home)
    assert [m["segment"] for m in records] == list(range(len(records)))
    assert len({m["recording_id"] for m in records}) == 1
    assert [m["final"] for m in records] == [False] * (len(records) - 1) + [True]
    assert not any(m["interrupted"] for m in records)
    assert records[0]["pre_event_seconds"] == pytest.approx(status["pre_event_seconds"], abs=0.01)
    assert records[0]["triggers"][0]["kind"] == "sensor"
    assert records[-1]["triggers"][-1]["reason"] == "incident over"
    for earlier, later in itertools.pairwise(records):  # times only move forward
        gap = parse_rfc3339(later["started_at"]) - parse_rfc3339(earlier["ended_at"])
        assert -0.2 <= gap <= 0.2
    _verified(camera.home)
    for path in sorted(camera.home.spool.glob("*.mp4")):
        assert _frames(path) > 0
        with av.open(str(path)) as container:  # the synthetic tone is recorded too
            assert sum(1 for _ in container.decode(audio=0)) > 0
    assert camera.trigger("stop").status_code == 409  # not recording
    assert camera.stop() == 0


def test_kill_9_keeps_every_closed_fragment_and_the_restart_signs_it_interrupted(agent) -> None:
    camera = agent(buffer_seconds=1, segment_seconds=600)
    camera.wait_buffered(1)
    recording = camera.trigger("start").json()
    path = camera.home.spool / f"CAM-1-{recording['device_sequence']:06d}-0000.mp4"
    camera.wait_for(lambda s: fmp4.scan(path).fragments >= 4, "four fragments")
    camera.kill()
    before = fmp4.scan(path)
    size = path.stat().st_size
    assert not path.with_suffix(".manifest.json").exists()
    camera.start()  # recovery runs at start
    record = json.loads(path.with_suffix(".manifest.json").read_bytes())
    assert record["interrupted"] is True and record["final"] is True
    assert record["recording_id"] == recording["recording_id"]
    assert path.stat().st_size == before.complete_bytes <= size
    assert record["size"] == before.complete_bytes
    assert _frames(path) >= 4 * 9  # four whole fragments of ten frames, at least
    assert record["ended_at"] > record["started_at"]
    _verified(camera.home)
    # The chain runs on: the next recording's manifest points at the recovered one.
    camera.wait_buffered(1)
    camera.trigger("start")
    camera.trigger("stop")
    records = manifests(camera.home)
    assert records[-1]["device_sequence"] == record["device_sequence"] + 1
    assert records[-1]["previous_manifest_sha256"] is not None
    assert camera.stop() == 0


def test_sigterm_while_recording_closes_the_segment_as_interrupted(agent) -> None:
    camera = agent()
    camera.wait_buffered(1)
    camera.trigger("start")
    camera.wait_for(lambda s: s["buffered_seconds"] > 0, "recording")
    assert camera.stop() == 0
    (record,) = manifests(camera.home)
    assert record["final"] and record["interrupted"]


def test_the_timer_stops_a_recording(agent) -> None:
    camera = agent(max_recording_seconds=2)
    camera.wait_buffered(1)
    camera.trigger("start")
    camera.wait_for(lambda s: s["state"] == "buffering", "the timer")
    (record,) = manifests(camera.home)
    assert record["triggers"][-1]["kind"] == "timer" and record["final"]
    assert not record["interrupted"]


def test_a_full_disk_stops_recording_cleanly_and_deletes_nothing(agent) -> None:
    camera = agent()
    camera.wait_buffered(1)
    camera.trigger("start")
    camera.wait_for(lambda s: s["pending_segments"] == 0 and s["segment"] == 0, "recording")
    config = AgentConfig(**json.loads(camera.home.config_path.read_text()))
    full = to_dict(config) | {"min_free_bytes": 1 << 40}  # more than this disk has free
    camera.home.config_path.write_text(json.dumps(full))
    status = camera.wait_for(lambda s: s["disk_full"], "the disk check")
    assert status["state"] == "buffering"
    assert "disk full" in status["last_error"] and "nothing deleted" in status["last_error"]
    refused = camera.trigger("start")
    assert refused.status_code == 409 and "disk full" in refused.json()["detail"]
    (record,) = manifests(camera.home)
    assert record["final"] and record["interrupted"]
    segment = next(camera.home.spool.glob("*.mp4"))
    assert _frames(segment) > 0


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"action": "pause"}, 400, "action must be start or stop"),
        ({"action": "start", "kind": "peer"}, 400, "kind must be manual or sensor"),
        ({"action": "start", "kind": "sensor"}, 400, "names its source"),
        ({"action": "start", "colour": "red"}, 400, "unknown field(s): colour"),
        ({"action": 1}, 400, "must be strings"),
    ],
)
def test_bad_control_requests_get_problems(agent, body: dict, status: int, detail: str) -> None:
    camera = agent()
    answer = requests.post(f"{camera.url}/trigger", json=body, timeout=10)
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert detail in answer.json()["detail"]
    assert requests.post(f"{camera.url}/trigger", data=b"{", timeout=10).status_code == 400
    assert requests.get(f"{camera.url}/nothing", timeout=10).status_code == 404
    assert requests.get(f"{camera.url}/trigger", timeout=10).status_code == 405


def test_the_command_refuses_bad_input_with_a_message(tmp_path: Path) -> None:
    empty = run_camera("run", "--home", str(tmp_path / "none"), "--source", "synthetic")
    assert empty.returncode == 1 and "enrol" in empty.stderr and "Traceback" not in empty.stderr
    home = offline_home(tmp_path / "cam")
    remote = run_camera("run", "--home", str(home.root), "--source", "synthetic",
                        "--control", "0.0.0.0:8642")  # fmt: skip
    assert remote.returncode == 1 and "not loopback" in remote.stderr
    source = run_camera("run", "--home", str(home.root), "--source", "webcam")
    assert source.returncode == 1 and "unknown source" in source.stderr
    missing = run_camera("run", "--home", str(home.root), "--source", "file:/no/such.mp4")
    assert missing.returncode == 1 and "no such file" in missing.stderr
    buffer = run_camera("run", "--home", str(home.root), "--source", "synthetic", "--buffer", "500")
    assert buffer.returncode == 2 and "buffer_seconds" in buffer.stderr
    bad = run_camera("config", "--home", str(home.root), "--set", "buffer_seconds=121")
    assert bad.returncode == 2 and "outside 0 .. 120" in bad.stderr
    good = run_camera("config", "--home", str(home.root), "--set", "buffer_seconds=45")
    assert good.returncode == 0 and json.loads(good.stdout)["buffer_seconds"] == 45


def test_a_trigger_plugin_starts_a_recording_as_a_sensor(tmp_path: Path) -> None:
    home = offline_home(tmp_path / "cam", trigger_plugins=["holster_plugin:HolsterFile"])
    event = tmp_path / "holster-drawn"
    folder = str(Path(__file__).parent)
    env = {"HOLSTER_EVENT_FILE": str(event), "PYTHONPATH": folder}
    camera = AgentProcess(home, env=env).start()
    try:
        camera.wait_buffered(1)
        event.touch()
        camera.wait_for(lambda s: s["state"] == "recording", "the holster")
        camera.trigger("stop", "holstered")
    finally:
        camera.stop()
    (record,) = manifests(home)
    assert record["triggers"][0] | {"at": ""} == {
        "at": "", "kind": "sensor", "action": "start", "reason": "weapon drawn",
        "source": "holster",
    }  # fmt: skip


def test_a_gpio_button_without_gpiod_is_a_warning_not_a_failure(agent) -> None:
    camera = agent(gpio_chip="/dev/null")  # a path that exists: the chip is not the problem
    warnings = camera.status()["warnings"]
    assert any("gpiod Python module is not installed" in w for w in warnings)
    camera.wait_buffered(1)
    assert camera.trigger("start").status_code == 200
