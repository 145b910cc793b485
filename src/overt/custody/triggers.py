"""The SQL that makes custody tables append-only, for each supported database.

Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the log's entries and
on its signed checkpoints, and let the log head (its size) only grow, so neither a bug,
an admin shell nor raw SQL through the app's connection can rewrite history quietly.
Someone with the database owner's rights can drop them; the Merkle tree and the signed
checkpoints are what catch that (`overt verify`).
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


HEAD = "custody_custodyhead"
_HEAD_MESSAGE = "custody log head may only grow"


def create_head_triggers(schema_editor: Any) -> None:
    """The head row may not be deleted, renumbered or made smaller (nor, on SQLite, hold
    anything but an integer): appends only ever add to it."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS custody_head_no_shrink BEFORE UPDATE ON {HEAD} "
            "WHEN NEW.id != OLD.id OR typeof(NEW.size) != 'integer' OR NEW.size < OLD.size "
            f"BEGIN SELECT RAISE(ABORT, '{_HEAD_MESSAGE}'); END;"
        )
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS custody_head_no_delete BEFORE DELETE ON {HEAD} "
            f"BEGIN SELECT RAISE(ABORT, '{_HEAD_MESSAGE}'); END;"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION custody_head_refuse_shrink() RETURNS trigger AS $$ "
            "BEGIN IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.size >= OLD.size "
            f"THEN RETURN NEW; END IF; RAISE EXCEPTION '{_HEAD_MESSAGE}'; END; $$ "
            "LANGUAGE plpgsql;"
        )
        schema_editor.execute(
            "CREATE OR REPLACE TRIGGER custody_head_no_shrink BEFORE UPDATE OR DELETE ON "
            f"{HEAD} FOR EACH ROW EXECUTE FUNCTION custody_head_refuse_shrink();"
        )
        schema_editor.execute(
            f"CREATE OR REPLACE TRIGGER custody_head_no_truncate BEFORE TRUNCATE ON {HEAD} "
            "FOR EACH STATEMENT EXECUTE FUNCTION custody_head_refuse_shrink();"
        )
    else:
        raise RuntimeError(f"no append-only triggers for database {vendor!r}")


def drop_head_triggers(schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name in ("custody_head_no_shrink", "custody_head_no_delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};")
    elif vendor == "postgresql":
        for name in ("custody_head_no_shrink", "custody_head_no_truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {HEAD};")


def create_all(schema_editor: Any) -> None:
    for table in APPEND_ONLY:
        create_triggers(schema_editor, table)
    create_head_triggers(schema_editor)


def drop_all(schema_editor: Any) -> None:
    for table in APPEND_ONLY:
        drop_triggers(schema_editor, table)
    drop_head_triggers(schema_editor)
