"""Every setting and every CLI command is documented, and the reference pages are current."""

from __future__ import annotations

import pytest

from overt.cli.main import command_paths
from overt.conf import OvertSettings, env_name
from overt.docsgen import DOCS, PAGES, render


@pytest.mark.parametrize("page", sorted(PAGES))
def test_generated_reference_pages_are_current(page: str) -> None:
    current = (DOCS / page).read_text("utf-8")
    assert render(page, current) == current, f"docs/{page} is stale: run `make docs`"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text("utf-8")
    for name, field in OvertSettings.model_fields.items():
        assert f"`{env_name(name)}`" in text
        assert field.title and field.description, f"{name} needs a title and a description"


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text("utf-8")
    for path in command_paths():
        assert f"### `{path}`" in text, f"{path} is missing from docs/cli.md"
