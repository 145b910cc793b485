"""The device paths that cannot run here (no camera, microphone or GPIO chip on this
machine) still fail clearly when their device is missing: one line, an exit status or a
status warning, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from overt_camera.sources import AlsaMicrophone, SourceError
from overt_camera.triggers import GpioButton, TriggerRefused

from .support_camera import AgentProcess, offline_home, run_camera


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("/dev/video99", "v4l2:/dev/video99: no such device"),
        ("/dev/null", "v4l2:/dev/null: "),  # there, but not a camera
    ],
)
def test_a_missing_or_wrong_v4l2_camera_is_one_line_and_exit_1(
    tmp_path: Path, device: str, message: str
) -> None:
    home = offline_home(tmp_path / "home")
    done = run_camera(
        "run", "--home", str(home.root), "--source", f"v4l2:{device}", "--control", "127.0.0.1:0"
    )
    assert done.returncode == 1
    assert f"overt-camera run: {message}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_alsa_microphone_is_a_source_error_naming_it() -> None:
    with pytest.raises(SourceError, match=r"^alsa:hw:99: "):
        AlsaMicrophone("hw:99")


def test_a_missing_gpio_chip_says_so() -> None:
    with pytest.raises(TriggerRefused, match="gpio_chip /dev/gpiochip99: no such device"):
        GpioButton("/dev/gpiochip99", 17).start(lambda request: None)


def test_an_agent_with_a_missing_gpio_chip_records_and_warns(tmp_path: Path) -> None:
    home = offline_home(tmp_path / "home", gpio_chip="/dev/gpiochip99")
    camera = AgentProcess(home).start()
    try:
        status = camera.status()
        assert any("/dev/gpiochip99: no such device" in w for w in status["warnings"])
        camera.wait_buffered(1)
        assert camera.trigger("start").status_code == 200
        assert camera.trigger("stop").status_code == 200
    finally:
        assert camera.stop() == 0
    assert "Traceback" not in camera.stderr()
