"""Registering the people and cameras that footage is attributed to. The writes, with
their custody entries, are the access service's (overt.access.registry); its refusals end
as a message and exit status by overt.cli.main."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import click

from .bootstrap import setup

if TYPE_CHECKING:  # Django is set up only once a command runs
    from overt.custody.services import Actor


def _cli_actor() -> Actor:
    """The operating-system account, as the custody log names a CLI user."""
    import getpass

    from overt.custody.services import Actor

    return Actor.system(f"cli:{getpass.getuser()}")


@click.group()
def officer() -> None:
    """Officers who wear cameras."""


@officer.command("add")
@click.argument("number")
@click.option("--name", required=True, help="Full name.")
@click.option("--team", default="", help="Team or borough.")
def officer_add(number: str, name: str, team: str) -> None:
    """Register an officer by warrant or collar NUMBER."""
    setup()
    from overt.access.registry import register_officer

    register_officer(number, name, team=team, by=_cli_actor())
    click.echo(f"officer {number} added")


@officer.command("list")
@click.option("--json", "as_json", is_flag=True)
def officer_list(as_json: bool) -> None:
    """List officers."""
    setup()
    from overt.evidence.models import Officer

    rows = list(Officer.objects.values("number", "name", "team", "active"))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['number']:<12} {row['name']:<30} {row['team']}")


@click.group()
def device() -> None:
    """Cameras and docks."""


@device.command("add")
@click.argument("serial")
@click.option("--model", "model_name", required=True, help="Camera model.")
@click.option("--firmware", default="", help="Firmware version.")
def device_add(serial: str, model_name: str, firmware: str) -> None:
    """Register a camera by its SERIAL number."""
    setup()
    from overt.access.registry import register_device

    register_device(serial, model_name, firmware=firmware, by=_cli_actor())
    click.echo(f"device {serial} added")


@device.command("list")
@click.option("--json", "as_json", is_flag=True)
def device_list(as_json: bool) -> None:
    """List devices."""
    setup()
    from overt.evidence.models import Device

    rows = list(Device.objects.values("serial", "model", "firmware"))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['serial']:<20} {row['model']:<20} {row['firmware']}")


@device.command("assign")
@click.argument("serial")
@click.argument("number")
@click.option(
    "--from", "starts", type=click.DateTime(), default=None, help="Start (UTC); default now."
)
def device_assign(serial: str, number: str, starts: datetime | None) -> None:
    """Record that officer NUMBER wears camera SERIAL from now (or --from) on."""
    setup()
    from overt.access.registry import assign_device

    row = assign_device(serial, number, starts_at=starts, by=_cli_actor())
    click.echo(f"device {serial} assigned to officer {number} from {row.starts_at.isoformat()}")


@device.command("token")
@click.argument("serial")
@click.option("--dock", is_flag=True, help="A dock's token: may upload any registered camera's.")
def device_token(serial: str, dock: bool) -> None:
    """Print a new upload token for camera or dock SERIAL, revoking its earlier ones.

    The device sends it as `Authorization: Bearer <token>` to /files/. It is shown only
    now: overt keeps its SHA-256, not the token.
    """
    setup()
    import getpass

    from overt.uploads.tokens import TokenError, issue_token

    try:
        token = issue_token(serial, dock=dock, created_by=f"cli:{getpass.getuser()}")
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token)


@device.command("revoke")
@click.argument("serial")
def device_revoke(serial: str) -> None:
    """Revoke every upload token of camera or dock SERIAL."""
    setup()
    import getpass

    from overt.uploads.tokens import TokenError, revoke_tokens

    try:
        count = revoke_tokens(serial, revoked_by=f"cli:{getpass.getuser()}")
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"device {serial}: {count} token(s) revoked")
