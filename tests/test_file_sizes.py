"""Issue 12: no module in src/ is over 400 lines without saying why. A longer one carries,
within its first 40 lines, a comment or docstring line with the words "400 lines" that says
why it is one file (migrations, written by makemigrations, are exempt)."""

from __future__ import annotations

from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
LIMIT = 400
HEAD = 40


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def says_why(path: Path) -> bool:
    head = path.read_text(encoding="utf-8").splitlines()[:HEAD]
    return any("400 lines" in line for line in head)


def long_modules_without_a_reason(root: Path) -> list[str]:
    return sorted(
        f"{path.relative_to(root)}: {line_count(path)} lines"
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and line_count(path) > LIMIT and not says_why(path)
    )


def test_every_long_module_in_src_says_why() -> None:
    assert (SRC / "overt").is_dir()
    unexplained = long_modules_without_a_reason(SRC)
    assert not unexplained, (
        f"over {LIMIT} lines with no reason in the first {HEAD} lines (split it, or say why "
        '"... 400 lines because ..."):\n' + "\n".join(unexplained)
    )


@pytest.mark.parametrize(
    ("lines", "head", "flagged"),
    [
        (LIMIT, "", False),  # at the limit: fine
        (LIMIT + 1, "", True),  # over it, no reason: flagged
        (LIMIT + 1, "# Longer than 400 lines because it is one parser.", False),
    ],
)
def test_the_check_flags_only_long_modules_with_no_reason(
    tmp_path: Path, lines: int, head: str, flagged: bool
) -> None:
    body = [head] if head else []
    body += ["x = 1"] * (lines - len(body))
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "module.py").write_text("\n".join(body) + "\n", encoding="utf-8")
    migrations = tmp_path / "pkg" / "migrations"
    migrations.mkdir()
    (migrations / "0001_initial.py").write_text("x = 1\n" * (LIMIT + 50), encoding="utf-8")
    assert bool(long_modules_without_a_reason(tmp_path)) is flagged
