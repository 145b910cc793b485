"""overt hold: place, release and list holds."""

from __future__ import annotations

import click

from ..bootstrap import setup
from .common import AS_HELP, actor_for, emit, run_guarded


@click.group()
def hold() -> None:
    """Holds: nothing held is recycled or purged, whatever its retention."""


@hold.command("add")
@click.argument("recording_id", type=int)
@click.option("--reason", required=True, help="Why (recorded in the custody log).")
@click.option(
    "--kind",
    type=click.Choice(["legal", "case", "complaint", "post-incident"]),
    default="legal",
    show_default=True,
    help="What the hold is for.",
)
@click.option("--reference", default="", help="Case, complaint or order reference.")
@click.option("--as", "username", help=AS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the hold as JSON.")
def hold_add(
    recording_id: int,
    reason: str,
    kind: str,
    reference: str,
    username: str | None,
    as_json: bool,
) -> None:
    """Place a hold on RECORDING_ID. A recording in the recycle bin comes back whole."""
    setup()
    from overt.retention.services import set_hold

    actor = actor_for(username)
    result = run_guarded(
        lambda: set_hold(recording_id, kind=kind, reason=reason, actor=actor, reference=reference)
    )
    data = {**result.hold.to_json(), "recovered": result.recovered, "note": result.note}

    def text() -> None:
        click.echo(f"hold {result.hold.pk} ({kind}) placed on recording {recording_id}")
        if result.recovered:
            click.echo("it was in the recycle bin and has been recovered")
        if result.note:
            click.echo(result.note)

    emit(data, as_json, text)


@hold.command("release")
@click.argument("recording_id", type=int)
@click.option("--reason", required=True, help="Why (recorded in the custody log).")
@click.option("--hold", "hold_id", type=int, help="Which hold, where there are several.")
@click.option(
    "--kind",
    type=click.Choice(["legal", "case", "complaint", "post-incident"]),
    help="Release the hold of this kind.",
)
@click.option("--as", "username", help=AS_HELP)
def hold_release(
    recording_id: int, reason: str, hold_id: int | None, kind: str | None, username: str | None
) -> None:
    """Release a hold on RECORDING_ID; its retention runs again from its own dates."""
    setup()
    from overt.retention.services import release_hold

    actor = actor_for(username)
    released = run_guarded(
        lambda: release_hold(recording_id, reason=reason, actor=actor, hold_id=hold_id, kind=kind)
    )
    click.echo(f"hold {released.pk} ({released.kind}) on recording {recording_id} released")


@hold.command("list")
@click.argument("recording_id", type=int, required=False)
@click.option("--all", "show_all", is_flag=True, help="Include released holds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def hold_list(recording_id: int | None, show_all: bool, as_json: bool) -> None:
    """List active holds (of one recording, or all)."""
    setup()
    from overt.retention.models import Hold

    holds = Hold.objects.all()
    if recording_id is not None:
        holds = holds.filter(recording_ref=recording_id)
    if not show_all:
        holds = holds.filter(released_at__isnull=True)
    rows = [h.to_json() for h in holds]

    def text() -> None:
        for row in rows:
            state = "released" if row["released_at"] else "active"
            click.echo(
                f"{row['id']:>6}  recording {row['recording']:<8} {row['kind']:<14} {state:<9}"
                f" {row['reason']}"
            )

    emit(rows, as_json, text)
