"""Start Django for a CLI command, creating the instance on first use.

Schema changes: an embedded instance (SQLite, one node) brings its schema up to date as
any command starts, as it always has. A scaled one (PostgreSQL, many `overt serve` and
worker processes) never migrates from an ordinary process's start-up, where N processes
would race to do it: `overt migrate` (or `overt init`) does it once, under an advisory
lock, and a process that finds the schema behind refuses to start and says so.
"""

from __future__ import annotations

import os
from functools import cache

import click

from overt.conf import ConfigError, get_settings

MIGRATION_LOCK = 0x6F76_6D69  # "ovmi": the advisory lock that one `overt migrate` holds


@cache
def setup(*, migrate: bool = True) -> None:
    """Load settings, start Django, bring the schema up to date, clear crash leftovers."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "overt.project.settings")
    try:
        get_settings()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    import django

    django.setup()
    if migrate:
        migrate_if_needed()
        from overt.custody.keys import ensure_signing_key

        ensure_signing_key()
    from overt.evidence.store import get_store

    get_store().cleanup_incomplete()


def pending_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def migrate_if_needed() -> None:
    """Embedded: migrate. Scaled: refuse to start on a schema that is behind."""
    from django.db import connection

    if connection.vendor == "sqlite":
        if pending_migrations():
            run_migrations()
        return
    pending = pending_migrations()
    if pending:
        raise click.UsageError(
            f"the database schema is behind ({len(pending)} migration(s) not applied, first "
            f"{pending[0]}): run `overt migrate` once before starting overt processes"
        )


def run_migrations() -> list[str]:
    """Apply every pending migration, one process at a time (a PostgreSQL advisory lock
    held for the duration; SQLite's own write lock does the same). Returns what it applied."""
    from django.core.management import call_command
    from django.db import connection

    locked = connection.vendor == "postgresql"
    if locked:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    try:
        pending = pending_migrations()  # again, now that no other migrate runs
        if pending:
            call_command("migrate", interactive=False, verbosity=0)
        return pending
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])


def initialise() -> None:
    """`overt init`: migrate (once, under the lock) and make the custody signing key."""
    setup(migrate=False)
    run_migrations()
    from overt.custody.keys import ensure_signing_key

    ensure_signing_key()
