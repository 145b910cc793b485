"""Assignments of one device never overlap, enforced by the database (issue 18).

PostgreSQL: an exclusion constraint over (device, [starts_at, ends_at)) with btree_gist,
so two writers on two app nodes cannot both commit overlapping ranges even if one of
them skipped the service's row lock. SQLite: triggers before INSERT and UPDATE that
abort with the constraint's name (SQLite reports it as a constraint failure, which
Django raises as IntegrityError, as it does PostgreSQL's exclusion_violation).

Ranges are half-open, as in overt.fleet.assignment.overlaps: back-to-back is allowed; a
null ends_at is open-ended. A later migration that remakes this table on SQLite must drop
and make these triggers again (as 0004 does for the free-text triggers).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

NAME = "assignment_no_overlap"

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE evidence_deviceassignment ADD CONSTRAINT {NAME}
        EXCLUDE USING gist (device_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)""",
]
POSTGRESQL_BACK = [f"ALTER TABLE evidence_deviceassignment DROP CONSTRAINT IF EXISTS {NAME}"]

# julianday() reads Django's stored text ('YYYY-MM-DD HH:MM:SS[.ffffff]') as a number,
# so the comparison does not depend on whether microseconds were written.
_SQLITE_CLASH = f"""
    WHEN EXISTS (
        SELECT 1 FROM evidence_deviceassignment AS other
        WHERE other.device_id = NEW.device_id AND other.id IS NOT NEW.id
          AND (NEW.ends_at IS NULL OR julianday(other.starts_at) < julianday(NEW.ends_at))
          AND (other.ends_at IS NULL OR julianday(NEW.starts_at) < julianday(other.ends_at))
    )
    BEGIN SELECT RAISE(ABORT, '{NAME}: this device is already assigned in that time'); END
"""
SQLITE = [
    f"CREATE TRIGGER {NAME}_insert BEFORE INSERT ON evidence_deviceassignment {_SQLITE_CLASH}",
    f"CREATE TRIGGER {NAME}_update BEFORE UPDATE OF device_id, starts_at, ends_at "
    f"ON evidence_deviceassignment {_SQLITE_CLASH}",
]
SQLITE_BACK = [f"DROP TRIGGER IF EXISTS {NAME}_insert", f"DROP TRIGGER IF EXISTS {NAME}_update"]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("evidence", "0005_transcript_derivative")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_BACK, "sqlite": SQLITE_BACK}),
            elidable=False,
        )
    ]
