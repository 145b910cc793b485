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
    """Revoke camera or dock SERIAL: its upload tokens, its signing keys (kept, to verify
    what it signed before) and open enrolment codes end, and it may not enrol again until
    reinstated."""
    setup()
    from overt.uploads.enrolment import revoke_device

    counts = revoke_device(serial, by=_user_actor())
    click.echo(
        f"device {serial} revoked: {counts['tokens']} token(s) revoked, {counts['keys']} "
        f"key(s) retired, {counts['codes']} enrolment code(s) voided"
    )


@device.command("reinstate")
@click.argument("serial")
def device_reinstate(serial: str) -> None:
    """Lift the revocation of SERIAL; it must enrol again (`overt device enrol`)."""
    setup()
    from overt.uploads.enrolment import reinstate_device

    done = reinstate_device(serial, by=_user_actor())
    click.echo(f"device {serial} " + ("reinstated" if done else "was not revoked"))


@device.command("enrol")
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True, help='Print {"serial","code","expires_at"}.')
def device_enrol(serial: str, as_json: bool) -> None:
    """Print a one-time enrolment code for camera SERIAL (valid 15 minutes; a newer code
    voids it). On the camera: `overt-camera enrol --home DIR --server URL --code CODE`."""
    setup()
    from overt.uploads.enrolment import issue_code

    issued = issue_code(serial, by=_user_actor())
    if as_json:
        click.echo(json.dumps(issued.to_json()))
        return
    click.echo(f"enrolment code for {serial}: {issued.code}")
    click.echo(f"valid until {issued.to_json()['expires_at']}, once")


@device.command("keys")
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True)
def device_keys(serial: str, as_json: bool) -> None:
    """List every signing key camera SERIAL has had, with when each was valid."""
    setup()
    from overt.errors import NotFound
    from overt.evidence.models import Device
    from overt.ingest.models import DeviceKey

    if not Device.objects.filter(serial=serial).exists():
        raise NotFound(f"unknown device {serial!r}")
    rows = [
        {
            "key_id": k.key_id,
            "public_key": k.public_key,
            "valid_from": k.valid_from.isoformat(),
            "valid_until": k.valid_until.isoformat() if k.valid_until else None,
            "retired_because": k.retired_because,
            "agent_version": k.agent_version,
        }
        for k in DeviceKey.objects.filter(device__serial=serial)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        until = row["valid_until"] or "now"
        click.echo(f"{row['key_id']}  {row['valid_from']} .. {until}  {row['retired_because']}")


def _user_actor() -> Actor:
    """The operating-system account, named as the device-token commands name it."""
    import getpass

    from overt.custody.services import Actor

    return Actor("user", f"cli:{getpass.getuser()}")
