"""`overt migrate` is the one schema step of a scaled deployment: app processes never
migrate at start-up on PostgreSQL (they refuse on a schema that is behind), and two
migrate commands at once are safe (an advisory lock). Real processes, real PostgreSQL."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from overt.testing.pytest_env import POSTGRES_URL

pytestmark = pytest.mark.scaled


def _overt(home: Path, url: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env.update({"OVERT_HOME": str(home), "OVERT_DATABASE_URL": url, "OVERT_MIN_FREE_BYTES": "0"})
    return subprocess.Popen(
        [sys.executable, "-m", "overt", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def fresh_database() -> Iterator[str]:
    if os.environ.get("OVERT_TEST_ENGINES") != "scaled":
        pytest.skip("needs the scaled engines (PostgreSQL)")
    name = f"overt_migrate_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_processes_refuse_a_schema_that_is_behind_and_one_migrate_fixes_it(
    fresh_database: str, tmp_path: Path
) -> None:
    refused = _overt(tmp_path, fresh_database, "officer", "list")
    out, err = refused.communicate(timeout=120)
    assert refused.returncode == 2, (out, err)
    assert "run `overt migrate` once" in err and "Traceback" not in err
    check = _overt(tmp_path, fresh_database, "migrate", "--check")
    assert check.wait(timeout=120) == 1
    # Two at once, as two deploy scripts might: one migrates, the other waits and finds
    # nothing left to do; neither fails.
    first, second = (_overt(tmp_path, fresh_database, "migrate") for _ in range(2))
    results = [(*p.communicate(timeout=300), p.returncode) for p in (first, second)]
    assert [r[2] for r in results] == [0, 0], results
    said = sorted(r[0].strip() for r in results)
    assert said[0].startswith("applied ") and said[1] == "schema up to date", said
    listed = _overt(tmp_path, fresh_database, "officer", "list")
    assert listed.wait(timeout=120) == 0
