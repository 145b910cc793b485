"""`overt demo-data`: a demo instance with people, cameras and synthetic footage."""

from __future__ import annotations

import click

from .bootstrap import setup


@click.command("demo-data")
@click.option("--seed", default=7, show_default=True, help="Seed for deterministic footage.")
@click.option("--jobs/--no-jobs", "run_jobs", default=True, help="Make derivatives before exiting.")
def demo_data(seed: int, run_jobs: bool) -> None:
    """Create demo officers, cameras, incidents, footage and logins (idempotent)."""
    setup()
    from base64 import b32encode

    from overt.access.matrix import Role, needs_second_factor
    from overt.conf import get_settings
    from overt.demo.cases import seed_cases
    from overt.demo.oversight import seed_oversight
    from overt.demo.seed import DEMO_USERS, create_demo, demo_totp_key
    from overt.evidence.models import Original

    if Original.objects.filter(source=Original.Source.DEMO).exists():
        click.echo("demo footage already present; nothing added")
    else:
        results = create_demo(seed, progress=lambda msg: click.echo(f"  {msg}"))
        results += seed_oversight(progress=lambda msg: click.echo(f"  {msg}"))
        seed_cases(progress=lambda msg: click.echo(f"  {msg}"))
        click.echo(f"ingested {len(results)} demo files")
        if run_jobs:
            from .jobs import drain_with_progress

            drain_with_progress()
    click.echo("\nDemo logins (for this demo instance only; one of every role):")
    click.echo(f"  {'username':<12} {'password':<24} {'role':<17} TOTP key (second factor)")
    for demo in DEMO_USERS:
        key = ""
        if needs_second_factor(Role(demo.role), get_settings().totp_required_from):
            key = b32encode(demo_totp_key(demo.username)).decode("ascii")
        click.echo(f"  {demo.username:<12} {demo.password:<24} {demo.role:<17} {key or '-'}")
        if demo.note:
            click.echo(f"  {'':<12} {demo.note}")
    click.echo(
        "Roles above officer are asked for a code after the password: add the key to an\n"
        "authenticator app, or print the current code with `overt user otp-code KEY`."
    )
