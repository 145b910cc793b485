"""`overt migrate`: the one schema step of a deployment (docs/scaling.md)."""

from __future__ import annotations

import click

from .bootstrap import run_migrations, setup


@click.command("migrate")
@click.option(
    "--check", is_flag=True, help="Only say whether migrations are pending (exit 1 if so)."
)
def migrate(check: bool) -> None:
    """Bring the database schema up to date, once, before starting overt processes.

    On PostgreSQL, `overt serve` and `overt worker` never migrate at start-up: they refuse
    to start on a schema that is behind. Run this first (the deploy/ start script does).
    Two at once are safe: the second waits for the first, then finds nothing to do.
    """
    setup(migrate=False)
    from .bootstrap import pending_migrations

    if check:
        pending = pending_migrations()
        for name in pending:
            click.echo(f"pending {name}")
        if pending:
            raise SystemExit(1)
        click.echo("schema up to date")
        return
    applied = run_migrations()
    from overt.custody.keys import ensure_signing_key

    ensure_signing_key()
    click.echo(f"applied {len(applied)} migration(s)" if applied else "schema up to date")
