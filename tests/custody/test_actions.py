"""The custody vocabulary is one list in code, and every action in it is really written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from overt.custody.actions import ACTION_DESCRIPTIONS, ACTIONS

SRC = Path(__file__).resolve().parents[2] / "src" / "overt"


def _source_outside_the_list() -> str:
    return "\n".join(
        path.read_text("utf-8")
        for path in SRC.rglob("*.py")
        if path.name != "actions.py" and "migrations" not in path.parts
    )


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_declared_action_is_written_somewhere(action: str) -> None:
    # A declared action no code writes (as `stream` once was) promises readers an entry
    # that never comes; the string must appear where an entry is built.
    assert re.search(rf"[\"']{re.escape(action)}[\"']", _source_outside_the_list()), (
        f"custody action {action!r} is declared but no code writes it"
    )


def test_every_action_has_a_description() -> None:
    assert all(text.strip() for text in ACTION_DESCRIPTIONS.values())
    assert "stream" not in ACTIONS
