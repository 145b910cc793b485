"""The SQL that makes custody tables append-only, for each supported database.

Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the log's entries and
on its signed checkpoints, so neither a bug, an admin shell nor raw SQL through the
app's connection can rewrite history quietly. Someone with the database owner's rights
can drop them; the Merkle tree and the signed checkpoints are what catch that
(`overt verify`).
"""

from __future__ import annotations

from typing import Any

ENTRIES = "custody_custodyentry"
CHECKPOINTS = "custody_checkpoint"
# table -> (trigger name prefix, message); the prefixes are what earlier migrations used.
APPEND_ONLY: dict[str, tuple[str, str]] = {
    ENTRIES: ("custody", "custody log is append-only"),
    CHECKPOINTS: ("custody_checkpoint", "custody checkpoints are append-only"),
}


def create_triggers(schema_editor: Any, table: str = ENTRIES) -> None:
    prefix, message = APPEND_ONLY[table]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for op in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {prefix}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            )
    elif vendor == "postgresql":
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {prefix}_refuse_change() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql;"
        )
        schema_editor.execute(
            f"CREATE OR REPLACE TRIGGER {prefix}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {prefix}_refuse_change();"
        )
        schema_editor.execute(
            f"CREATE OR REPLACE TRIGGER {prefix}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {prefix}_refuse_change();"
        )
    else:
        raise RuntimeError(f"no append-only triggers for database {vendor!r}")


def drop_triggers(schema_editor: Any, table: str = ENTRIES) -> None:
    prefix, _ = APPEND_ONLY[table]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for op in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {prefix}_no_{op};")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {prefix}_no_change ON {table};")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {prefix}_no_truncate ON {table};")


def create_all(schema_editor: Any) -> None:
    for table in APPEND_ONLY:
        create_triggers(schema_editor, table)


def drop_all(schema_editor: Any) -> None:
    for table in APPEND_ONLY:
        drop_triggers(schema_editor, table)
