"""`overt migrate` is the one schema step of a scaled deployment: app processes never
migrate at start-up on PostgreSQL (they refuse on a schema that is behind), and two
migrate commands at once are safe (an advisory lock). Real processes, real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from support_fleet import overt_process as _overt

pytestmark = pytest.mark.scaled


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
