"""Registering the people and cameras that footage is attributed to."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from .bootstrap import setup


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
    from overt.evidence.models import Officer

    obj, created = Officer.objects.get_or_create(
        number=number, defaults={"name": name, "team": team}
    )
    if not created:
        raise click.ClickException(f"officer {number} already exists ({obj.name})")
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
    from overt.evidence.models import Device

    obj, created = Device.objects.get_or_create(
        serial=serial, defaults={"model": model_name, "firmware": firmware}
    )
    if not created:
        raise click.ClickException(f"device {serial} already exists ({obj.model})")
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
    from django.db import transaction

    from overt.evidence.models import Device, DeviceAssignment, Officer

    starts_at = (starts or datetime.now(UTC)).replace(tzinfo=UTC)
    try:
        dev = Device.objects.get(serial=serial)
        off = Officer.objects.get(number=number)
    except (Device.DoesNotExist, Officer.DoesNotExist) as exc:
        raise click.ClickException(str(exc)) from exc
    with transaction.atomic():
        DeviceAssignment.objects.filter(device=dev, ends_at__isnull=True).update(ends_at=starts_at)
        DeviceAssignment.objects.create(device=dev, officer=off, starts_at=starts_at)
    click.echo(f"device {serial} assigned to officer {number} from {starts_at.isoformat()}")


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
