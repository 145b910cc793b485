"""overt recording: list recordings with their retention, categorise them."""

from __future__ import annotations

import click

from ..bootstrap import setup
from .common import AS_HELP, actor_for, emit, run_guarded


@click.group()
def recording() -> None:
    """Recordings: list them with their retention, categorise them."""


@recording.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--officer", help="Only this officer's recordings (warrant or collar number).")
@click.option("--team", help="Only recordings by officers of this team.")
@click.option("--uncategorised", is_flag=True, help="Only recordings with no category.")
@click.option(
    "--state",
    type=click.Choice(["all", "live", "held", "recycled", "purging", "deleted"]),
    default="all",
    show_default=True,
    help="live, held, in the recycle bin, purge under way, or deleted (tombstones).",
)
def recording_list(
    as_json: bool, officer: str | None, team: str | None, uncategorised: bool, state: str
) -> None:
    """List recordings with their categories, holds and retention.

    JSON: a list of {id, title, officer, team, device, trigger_on_at, categories, state,
    holds, due_at, at_expiry, retention, recoverable_until}; with --state deleted, the
    tombstones: {recording, officer, device, trigger_on_at, categories, objects,
    deleted_at, certificate}.
    """
    setup()
    from overt.retention.models import Tombstone
    from overt.retention.services import recording_rows

    if state == "deleted":
        tombs = Tombstone.objects.select_related("certificate")
        if officer:
            tombs = tombs.filter(officer_number=officer)
        rows = [t.to_json() for t in tombs]

        def text_deleted() -> None:
            for row in rows:
                click.echo(
                    f"{row['recording']:>8}  deleted {row['deleted_at'][:10]}  "
                    f"{row['officer']:<10} {row['certificate']}"
                )

        emit(rows, as_json, text_deleted)
        return
    found = recording_rows(
        officer=officer, team=team, only_uncategorised=uncategorised, state=state
    )

    def text() -> None:
        for row in found:
            cats = ",".join(row.categories) or "(uncategorised)"
            click.echo(
                f"{row.id:>8}  {row.trigger_on_at:%Y-%m-%dT%H:%M}  {row.officer:<10} "
                f"{row.state:<9} {cats:<30} {row.retention}"
            )

    emit([row.to_json() for row in found], as_json, text)


@recording.command("categorize")
@click.argument("recording_id", type=int)
@click.argument("category")
@click.option("--remove", is_flag=True, help="Take the category off instead.")
@click.option("--reason", default="", help="Why (recorded in the custody log).")
@click.option("--as", "username", help=AS_HELP)
def recording_categorize(
    recording_id: int, category: str, remove: bool, reason: str, username: str | None
) -> None:
    """Put recording RECORDING_ID in CATEGORY (or take it out with --remove).

    A recording in the recycle bin that the change makes no longer due comes back.
    """
    setup()
    from overt.retention.services import categorize

    actor = actor_for(username)
    result = run_guarded(
        lambda: categorize(recording_id, category, actor=actor, remove=remove, reason=reason)
    )
    cats = ", ".join(result["categories"]) or "(none)"
    click.echo(f"recording {recording_id}: categories {cats}")
    if result["recovered"]:
        click.echo(f"recording {recording_id} is no longer due and was recovered from the bin")
