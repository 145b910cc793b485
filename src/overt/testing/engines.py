"""Which tests run on both engines: the selection is structural, not a marker per test.

In the folders named in BOTH_ENGINES every test that touches the database (and with it
the evidence store and the job queue) is marked `scaled`, so the scaled run repeats it
on PostgreSQL, S3 (moto_server) and Redis. Pure tests touch no engine and run once.
`embedded_only(reason=...)` keeps out a test that is about the embedded engines
themselves (SQLite, local-disk faults); the reason is required.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BOTH_ENGINES = frozenset(
    {
        "access",
        "api",
        "camera",
        "cases",
        "custody",
        "disclosure",
        "evidence",
        "fleet",
        "ingest",
        "jobs",
        "media",
        "oversight",
        "ops",
        "portal",
        "redaction",
        "retention",
        "review",
        "transcripts",
        "uploads",
        "web",
    }
)
# Only these: pytest-django adds django_db_blocker to every test, database or not.
ENGINE_FIXTURES = frozenset({"db", "transactional_db", "live_server"})


def uses_engines(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & ENGINE_FIXTURES) or item.get_closest_marker("django_db") is not None


def runs_on_both(item: pytest.Item, tests_root: Path) -> bool:
    """Whether `item` belongs in the scaled run as well; raises on a bad embedded_only."""
    embedded_only = item.get_closest_marker("embedded_only")
    if embedded_only is not None:
        if not (embedded_only.kwargs.get("reason") or embedded_only.args):
            raise pytest.UsageError(f"{item.nodeid}: embedded_only needs a reason")
        if item.get_closest_marker("scaled") is not None:
            raise pytest.UsageError(f"{item.nodeid}: marked both scaled and embedded_only")
        return False
    try:
        folder = item.path.relative_to(tests_root).parts[0]
    except ValueError:
        return False
    return folder in BOTH_ENGINES and uses_engines(item)


def mark_scaled(items: list[pytest.Item], tests_root: Path) -> None:
    for item in items:
        if runs_on_both(item, tests_root):
            item.add_marker(pytest.mark.scaled)
