"""docs/camera.md documents every setting and every option of the agent's commands."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from overt_camera.cli import parser
from overt_camera.config import FIELDS

DOC = Path(__file__).parents[2] / "docs" / "camera.md"
OWN_COMMANDS = ("enrol", "run", "offload", "config", "status")


def _commands() -> dict[str, argparse.ArgumentParser]:
    top = parser()
    action = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_setting_is_in_the_settings_table() -> None:
    text = DOC.read_text("utf-8").split("## Settings", 1)[1]
    for name in FIELDS:
        assert f"| `{name}` |" in text, f"{name} is missing from docs/camera.md"


@pytest.mark.parametrize("name", OWN_COMMANDS)
def test_every_option_of_every_command_is_documented(name: str) -> None:
    text = DOC.read_text("utf-8")
    heading = f"### `overt-camera {name}`"
    assert heading in text
    section = text.split(heading, 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    command = _commands()[name]
    for action in command._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert f"`{option}" in section, f"{option} of {name} is not documented"
