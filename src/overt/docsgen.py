"""Reference pages made from the code: settings from OvertSettings, commands from the
CLI. `make docs` (python -m overt.docsgen) rewrites the generated part of each page;
tests/test_docs.py fails when a page is out of date."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from overt.conf import OvertSettings, env_name

DOCS = Path(__file__).resolve().parents[2] / "docs"
BEGIN = "<!-- BEGIN GENERATED: do not edit by hand; run `make docs` -->"
END = "<!-- END GENERATED -->"


def settings_markdown() -> str:
    lines = []
    for name, field in OvertSettings.model_fields.items():
        default = field.default
        if hasattr(default, "get_secret_value"):
            default = "(generated)" if not default.get_secret_value() else "(set)"
        elif isinstance(default, list):
            default = ",".join(default)
        bounds = [
            f"{label} {getattr(m, attr)}"
            for m in field.metadata
            for attr, label in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))
            if getattr(m, attr, None) is not None
        ]
        lines.append(f"### `{env_name(name)}`: {field.title}\n")
        lines.append(f"{field.description}\n")
        lines.append(f"- TOML key: `{name}`")
        lines.append(f"- Default: `{default if default != '' else '(empty)'}`")
        if bounds:
            lines.append(f"- Bounds: {', '.join(bounds)}")
        lines.append("")
    return "\n".join(lines)


def cli_markdown() -> str:
    from overt.cli.main import cli

    lines: list[str] = []
    _describe(cli, "overt", lines)
    return "\n".join(lines)


def _describe(command: click.Command, path: str, lines: list[str]) -> None:
    from overt.cli.main import HELP_OPTIONS

    ctx = click.Context(
        command,
        info_name=path,
        terminal_width=100,
        max_content_width=100,
        help_option_names=HELP_OPTIONS,
    )
    if path != "overt":
        lines.append(f"### `{path}`\n")
        lines.append("```text")
        lines.append(command.get_help(ctx))
        lines.append("```\n")
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            _describe(command.commands[name], f"{path} {name}", lines)


def api_markdown() -> str:
    """Every REST endpoint, from the same OpenAPI schema that /api/schema/ serves."""
    _django()
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    lines = ["| Method | Path | What it does |", "|---|---|---|"]
    for path, operations in sorted(schema["paths"].items()):
        for method, operation in operations.items():
            text = (operation.get("description") or operation.get("summary") or "").strip()
            summary = text.split("\n\n")[0].replace("\n", " ").replace("|", "\\|")
            lines.append(f"| {method.upper()} | `{path}` | {summary} |")
    return "\n".join(lines)


def _django() -> None:
    """Start Django on a throwaway instance when run as `make docs`."""
    import os
    import tempfile

    import django
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("OVERT_HOME", tempfile.mkdtemp(prefix="overt-docs-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "overt.project.settings")
    django.setup()


def access_markdown() -> str:
    from overt.access.docs import matrix_markdown

    return matrix_markdown()


def custody_actions_markdown() -> str:
    from overt.custody.actions import ACTION_DESCRIPTIONS

    lines = ["| action | recorded when |", "| --- | --- |"]
    lines += [f"| `{name}` | {text} |" for name, text in ACTION_DESCRIPTIONS.items()]
    return "\n".join(lines)


PAGES = {
    "configuration.md": settings_markdown,
    "cli.md": cli_markdown,
    "access.md": access_markdown,
    "api.md": api_markdown,
    "custody.md": custody_actions_markdown,
}


def render(page: str, current: str) -> str:
    """The page with its generated part replaced by what the code says now."""
    head, sep, rest = current.partition(BEGIN)
    if not sep:
        raise ValueError(f"docs/{page} has no generated section marker")
    _, sep, tail = rest.partition(END)
    if not sep:
        raise ValueError(f"docs/{page} has no end marker")
    return f"{head}{BEGIN}\n\n{PAGES[page]().rstrip()}\n\n{END}{tail}"


def main() -> int:
    for page in PAGES:
        path = DOCS / page
        path.write_text(render(page, path.read_text("utf-8")), "utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
