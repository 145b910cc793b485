"""overt oversight complaint / review: complaints with footage and supervisor review."""

from __future__ import annotations

import json
from typing import Any

import click

from .bootstrap import setup
from .retention.common import AS_HELP, actor_for


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group()
def complaint() -> None:
    """Complaints: register, propose and link footage (complaint holds), close."""


@complaint.command("add")
@click.argument("reference")
@click.option("--received", "received_on", required=True, help="Date received, YYYY-MM-DD.")
@click.option("--from", "occurred_from", required=True, help="Start of the events (RFC 3339).")
@click.option("--to", "occurred_to", required=True, help="End of the events (RFC 3339).")
@click.option("--officer", "officers", multiple=True, help="An officer named (repeat).")
@click.option("--lat", "latitude", type=float, help="Where, latitude.")
@click.option("--lon", "longitude", type=float, help="Where, longitude.")
@click.option("--borough", default="", help="The borough.")
@click.option("--as", "username", help=AS_HELP)
def complaint_add(username: str | None, **fields: Any) -> None:
    """Register complaint REFERENCE and list the footage overt proposes for it."""
    setup()
    from overt.oversight import complaints

    made = complaints.register(complaints.new_complaint(fields), actor=actor_for(username))
    click.echo(f"complaint {made.reference} registered")
    for rec in complaints.proposed(made):
        click.echo(
            f"proposed: recording {rec.pk} {rec.officer.number} {rec.trigger_on_at:%Y-%m-%d %H:%M}"
        )


@complaint.command("propose")
@click.argument("reference")
def complaint_propose(reference: str) -> None:
    """List the recordings matching the complaint's officers, time and place (unlinked)."""
    setup()
    from overt.oversight import complaints

    for rec in complaints.proposed(complaints.get(reference)):
        click.echo(f"recording {rec.pk} {rec.officer.number} {rec.trigger_on_at:%Y-%m-%d %H:%M}")


@complaint.command("link")
@click.argument("reference")
@click.argument("recording_id", type=int)
@click.option("--as", "username", help=AS_HELP)
def complaint_link(reference: str, recording_id: int, username: str | None) -> None:
    """Link RECORDING_ID to the complaint; a complaint hold is placed on it."""
    setup()
    from overt.oversight import complaints

    made = complaints.link(reference, recording_id, actor=actor_for(username))
    click.echo(
        f"recording {recording_id} linked to {reference}; complaint hold {made.hold_id} placed"
    )


@complaint.command("close")
@click.argument("reference")
@click.option("--outcome", required=True, help="The outcome, as recorded.")
@click.option(
    "--on", "closed_on", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Closing date."
)
@click.option("--as", "username", help=AS_HELP)
def complaint_close(reference: str, outcome: str, closed_on: Any, username: str | None) -> None:
    """Close the complaint with its outcome; its complaint holds are released."""
    setup()
    from overt.oversight import complaints

    complaints.close(
        reference, outcome=outcome, closed_on=closed_on.date(), actor=actor_for(username)
    )
    click.echo(f"complaint {reference} closed; its holds are released")


@complaint.command("figures")
def complaint_figures() -> None:
    """Share of complaints with footage; days to resolution with and without (JSON)."""
    setup()
    from overt.oversight import complaints

    _emit(complaints.figures())


@click.group()
def review() -> None:
    """Supervisor review: the weekly weighted sample per team, and its outcomes."""


@review.command("draw")
@click.option("--team", required=True, help="The officers' team.")
@click.option("--week", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Its Monday.")
@click.option("--size", type=int, help="How many (default OVERT_OVERSIGHT_REVIEW_SAMPLE_SIZE).")
@click.option("--seed", help="A seed to replay a draw with (default: a fresh random one).")
@click.option("--redraw-reason", default="", help="Needed to draw a team and week again.")
@click.option("--as", "username", help=AS_HELP)
def review_draw(
    team: str,
    week: Any,
    size: int | None,
    seed: str | None,
    redraw_reason: str,
    username: str | None,
) -> None:
    """Draw the week's sample for a team, weighted towards use of force, complaints, late
    activations and flagged keywords. The seed is logged; a redraw needs a reason."""
    setup()
    from overt.oversight import supervision

    made = supervision.draw(
        team,
        week.date(),
        actor=actor_for(username),
        size=size,
        seed=seed,
        redraw_reason=redraw_reason,
    )
    click.echo(
        f"draw {made.pk}: {team}, week of {made.week}, seed {made.seed}, "
        f"{made.candidates} candidates"
    )
    for item in made.items.all():
        why = ", ".join(item.why) or "-"
        click.echo(
            f"  item {item.pk}: recording {item.recording_id} (weight {item.weight:g}: {why})"
        )


@review.command("record")
@click.argument("item_id", type=int)
@click.option("--code", "codes", multiple=True, required=True, help="A reason code (repeat).")
@click.option("--note", default="", help="The reviewer's note.")
@click.option("--as", "username", help=AS_HELP)
def review_record(item_id: int, codes: tuple[str, ...], note: str, username: str | None) -> None:
    """Record the review of sampled recording ITEM_ID: reason codes late-activation,
    early-deactivation, obstructed-view, professionalism-concern, good-practice."""
    setup()
    from overt.oversight import supervision

    supervision.review(item_id, codes=list(codes), note=note, actor=actor_for(username))
    click.echo(f"review of item {item_id} recorded")
