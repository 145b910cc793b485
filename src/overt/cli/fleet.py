"""`overt fleet`: the fleet pages' work from the command line, through the same services
(overt.fleet): the list with health, CSV, assignment ranges and check-in, tags,
profiles, and the unattributed worklist. Refusals end as a message and exit status."""

from __future__ import annotations

import json
from datetime import datetime

import click

from .bootstrap import setup
from .people import AS_HELP, actor_for


@click.group()
def fleet() -> None:
    """Cameras: health, assignment, tags, config profiles, unattributed footage."""


@fleet.command("list")
@click.option("--health", type=click.Choice(["ok", "attention", "lost"]), default=None)
@click.option("--model", default="", help="Only this camera model.")
@click.option("--lagging", is_flag=True, help="Only cameras behind on their config.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (as the page's export).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def fleet_list(health: str | None, model: str, lagging: bool, as_csv: bool, as_json: bool) -> None:
    """Every camera with its health and the reasons, as the fleet page shows it."""
    setup()
    from overt.fleet import services

    rows = services.rows(services.Filters(health=health or "", model=model, lagging=lagging))
    if as_csv:
        click.echo(services.to_csv(rows), nl=False)
        return
    if as_json:
        click.echo(json.dumps([services.as_dict(r) for r in rows], indent=2))
        return
    for row in rows:
        reasons = "; ".join(row.health.reasons)
        click.echo(f"{row.serial:<20} {row.health.state:<9} {row.officer or '-':<10} {reasons}")


@fleet.command("assign")
@click.argument("serial")
@click.argument("number")
@click.option("--from", "starts", type=click.DateTime(), default=None, help="Start (UTC); now.")
@click.option("--until", "ends", type=click.DateTime(), default=None, help="End (UTC); open.")
@click.option("--as", "as_user", default=None, help=AS_HELP)
def fleet_assign(
    serial: str, number: str, starts: datetime | None, ends: datetime | None, as_user: str | None
) -> None:
    """Officer NUMBER wears camera SERIAL over a range that overlaps no other of it."""
    setup()
    from overt.fleet.assignment import assign

    row = assign(serial, number, starts_at=starts, ends_at=ends, by=actor_for(as_user))
    until = row.ends_at.isoformat() if row.ends_at else "check-in"
    click.echo(f"{serial} assigned to {number} from {row.starts_at.isoformat()} until {until}")


@fleet.command("check-in")
@click.argument("serial")
@click.option("--as", "as_user", default=None, help=AS_HELP)
def fleet_check_in(serial: str, as_user: str | None) -> None:
    """End camera SERIAL's open assignment now."""
    setup()
    from overt.fleet.assignment import end_assignment

    row = end_assignment(serial, by=actor_for(as_user))
    click.echo(f"{serial} checked in from officer {row.officer.number}")


@fleet.command("tag")
@click.argument("kind", type=click.Choice(["camera", "officer"]))
@click.argument("who")
@click.argument("tag")
@click.option("--as", "as_user", default=None, help=AS_HELP)
def fleet_tag(kind: str, who: str, tag: str, as_user: str | None) -> None:
    """Set the tag id the kiosk's reader types for a camera (SERIAL) or officer (NUMBER)."""
    setup()
    from overt.fleet import assignment

    setter = assignment.set_device_tag if kind == "camera" else assignment.set_officer_tag
    setter(who, tag, by=actor_for(as_user))
    click.echo(f"{kind} {who}: tag set")


@fleet.command("profile")
@click.argument("name")
@click.option("--buffer", "buffer_seconds", type=int, help="Pre-event buffer, 0-120 s.")
@click.option("--audio-in-buffer/--no-audio-in-buffer", default=None)
@click.option("--resolution", default=None, help="e.g. 1920x1080.")
@click.option("--segment", "segment_seconds", type=int, help="Segment length, 10-3600 s.")
@click.option("--peer-group", default=None)
@click.option("--bandwidth", "offload_bandwidth_kbps", type=int, help="Offload cap, kbit/s.")
@click.option("--devices", default="", help="Comma-separated serials to give this profile.")
@click.option("--model", "for_model", default="", help="A camera model to give this profile.")
@click.option("--as", "as_user", default=None, help=AS_HELP)
def fleet_profile(
    name: str, devices: str, for_model: str, as_user: str | None, **settings: object
) -> None:
    """Create or change profile NAME (a new version), and give it to cameras or a model."""
    setup()
    from overt.fleet import profiles

    by = actor_for(as_user)
    values = {k: v for k, v in settings.items() if v is not None}
    profile = profiles.save_profile(name, values, by=by)
    if devices:
        profiles.assign_profile_to_devices(devices.split(","), name, by=by)
    if for_model:
        profiles.assign_profile_to_model(for_model, name, by=by)
    click.echo(json.dumps(profiles.config_of(profile).as_json()))


@fleet.command("attribute")
@click.argument("recording", type=int)
@click.argument("number")
@click.option("--as", "as_user", default=None, help=AS_HELP)
def fleet_attribute(recording: int, number: str, as_user: str | None) -> None:
    """Name officer NUMBER as the wearer of unattributed RECORDING."""
    setup()
    from overt.fleet.unattributed import attribute

    attribute(recording, number, by=actor_for(as_user))
    click.echo(f"recording {recording} attributed to {number}")


@fleet.command("unattributed")
@click.option("--json", "as_json", is_flag=True)
def fleet_unattributed(as_json: bool) -> None:
    """Recordings from cameras assigned to no one when they recorded."""
    setup()
    from overt.fleet.unattributed import worklist

    rows = [
        {
            "recording": r.pk,
            "device": r.device.serial,
            "started": r.trigger_on_at.isoformat(),
            "clips": getattr(r, "clips", 0),  # annotated by the worklist's query
            "bytes": getattr(r, "bytes", 0),
        }
        for r in worklist()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['recording']:>8} {row['device']:<20} {row['started']} {row['clips']} clip(s)"
        )
