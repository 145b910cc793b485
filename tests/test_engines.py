"""Proof that the scaled run really runs on the scale-out engines."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from overt.conf import get_settings
from overt.evidence.store import get_store

pytestmark = pytest.mark.scaled


def test_engines_match_the_run(db) -> None:
    settings = get_settings()
    if os.environ.get("OVERT_TEST_ENGINES") == "scaled":
        assert connection.vendor == "postgresql"
        assert settings.jobs_engine == "redis"
        assert get_store().url.startswith("s3://")
    else:
        assert connection.vendor == "sqlite"
        assert settings.jobs_engine == "database"
        assert get_store().url.startswith("file://")


def test_every_database_test_of_the_staged_folders_runs_on_both_engines(
    request: pytest.FixtureRequest,
) -> None:
    """The scaled run's selection is structural (overt.testing.engines): a database test
    of those folders is in it unless it says, with a reason, that it is embedded-only."""
    from pathlib import Path

    from overt.testing.engines import BOTH_ENGINES, uses_engines

    tests = Path(__file__).parent
    staged = [
        item
        for item in request.session.items
        if item.path.relative_to(tests).parts[0] in BOTH_ENGINES
        and uses_engines(item)
        and item.get_closest_marker("embedded_only") is None
    ]
    if not staged:
        pytest.skip("no test of those folders was collected in this run")
    assert [i.nodeid for i in staged if i.get_closest_marker("scaled") is None] == []


def test_embedded_only_needs_a_reason(request: pytest.FixtureRequest) -> None:
    from pathlib import Path

    from overt.testing.engines import runs_on_both

    tests = Path(__file__).parent
    request.node.add_marker(pytest.mark.embedded_only)
    with pytest.raises(pytest.UsageError, match="needs a reason"):
        runs_on_both(request.node, tests)
