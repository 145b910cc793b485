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


def test_the_readme_links_every_docs_page() -> None:
    readme = (DOCS.parent / "README.md").read_text("utf-8")
    missing = [p.name for p in sorted(DOCS.glob("*.md")) if f"(docs/{p.name})" not in readme]
    assert not missing, f"README.md links no docs page for {missing}"


def test_the_readme_keeps_exactly_two_set_up_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text("utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = quickstart.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    assert "OVERT_BIND" in quickstart
