"""Start Django for a CLI command, creating the instance on first use."""

from __future__ import annotations

import os
from functools import cache

import click

from overt.conf import ConfigError, get_settings


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


def migrate_if_needed() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
