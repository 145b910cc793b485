"""overt retention: the daily run, upcoming deletions, reviews, recovery, certificates
and policies."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..bootstrap import setup
from .common import AS_HELP, actor_for, emit, parse_when, run_guarded


@click.group()
def retention() -> None:
    """Retention: policies, the daily run, upcoming deletions, recovery, certificates."""


@retention.command("run")
@click.option("--as-of", "as_of", help="Run as of this date or time (UTC); default now.")
@click.option("--dry-run", is_flag=True, help="Say what would happen; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def retention_run(as_of: str | None, dry_run: bool, as_json: bool) -> None:
    """Purge what has served its recycle window, then recycle what has fallen due.

    --as-of DATE with --dry-run is a what-if: what would be recycled or purged on that
    date. A real run refuses a date in the future. Exit status 1 when a purge failed
    part-way (it is finished by the next run).

    JSON: {as_of, dry_run, summary: {ACTION: count, review_due, held, live},
    actions: [{recording, action, detail, ...}], review_due: [...]}; actions are recycled,
    purged, recovered, deferred (store Object Lock), failed, blocked, held, skipped, or
    would-recycle, would-purge, would-defer, would-recover in a dry run.
    """
    setup()
    from overt.retention.services import run_retention

    report = run_guarded(lambda: run_retention(parse_when(as_of), dry_run=dry_run))
    data = report.to_json()

    def text() -> None:
        verb = "would do" if dry_run else "did"
        click.echo(f"retention run as of {data['as_of']} ({verb}):")
        for outcome in data["actions"]:
            click.echo(
                f"  {outcome['action']:<14} recording {outcome['recording']}: {outcome['detail']}"
            )
        summary = ", ".join(f"{k} {v}" for k, v in data["summary"].items())
        click.echo(f"summary: {summary}")

    emit(data, as_json, text)
    sys.exit(1 if report.count("failed") else 0)


@retention.command("upcoming")
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True)
@click.option("--as-of", "as_of", help="As of this date or time (UTC); default now.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def retention_upcoming(days: int, as_of: str | None, as_json: bool) -> None:
    """List deletions and reviews due in the next DAYS days.

    JSON: a list of {recording, stage (recycle, purge or review), date, purge_after,
    officer, team, device, recorded_at, title, reason}, by date.
    """
    setup()
    from overt.retention.services import upcoming

    rows = upcoming(parse_when(as_of), days=days)

    def text() -> None:
        if not rows:
            click.echo(f"nothing due in the next {days} days")
        for row in rows:
            click.echo(
                f"{row.date:%Y-%m-%d}  {row.stage:<8} recording {row.recording:<8} "
                f"{row.officer:<10} {row.reason}"
            )

    emit([row.to_json() for row in rows], as_json, text)


@retention.command("uncategorised")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def retention_uncategorised(as_json: bool) -> None:
    """The uncategorised worklist: how many recordings each officer (by team) has left
    uncategorised, the oldest, and when the first falls due.

    JSON: a list of {team, officer, name, count, oldest, first_due, recordings}.
    """
    setup()
    from overt.retention.services import uncategorised

    rows = uncategorised()

    def text() -> None:
        if not rows:
            click.echo("every recording has a category")
        for row in rows:
            click.echo(
                f"{row.team or '(no team)':<28} {row.officer:<10} {row.count:>6}  "
                f"oldest {row.oldest:%Y-%m-%d}"
            )

    emit([row.to_json() for row in rows], as_json, text)


@retention.command("review-due")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def retention_review_due(as_json: bool) -> None:
    """Footage whose retention ended under a 'review' policy, waiting for a decision:
    keep it (`overt retention keep`) or delete it (`overt deletion request`)."""
    setup()
    from overt.retention.services import review_due

    rows = review_due()

    def text() -> None:
        if not rows:
            click.echo("nothing is due for review")
        for row in rows:
            due = f"{row.due_at:%Y-%m-%d}" if row.due_at else ""
            click.echo(f"recording {row.recording:<8} due {due}  {row.decided_by}")

    emit([row.to_json() for row in rows], as_json, text)


@retention.command("keep")
@click.argument("recording_id", type=int)
@click.option("--until", "until", required=True, help="Keep until this date (UTC).")
@click.option("--reason", required=True, help="The review's reason (custody log).")
@click.option("--as", "username", help=AS_HELP)
def retention_keep(recording_id: int, until: str, reason: str, username: str | None) -> None:
    """Record a review's decision to keep RECORDING_ID until a date (then review again)."""
    setup()
    from overt.retention.services import keep_until

    actor = actor_for(username)
    when = parse_when(until, "--until")
    run_guarded(lambda: keep_until(recording_id, when, reason=reason, actor=actor))
    click.echo(f"recording {recording_id} kept until {when.isoformat()}")


@retention.command("trigger")
@click.argument("recording_id", type=int)
@click.argument(
    "kind",
    type=click.Choice(
        ["case-closed", "complaint-closed", "conviction", "no-further-action", "review-date"]
    ),
)
@click.option("--at", "at", help="When it happened (UTC); default now.")
@click.option("--reason", default="", help="Reference or note (custody log).")
@click.option("--as", "username", help=AS_HELP)
def retention_trigger(
    recording_id: int, kind: str, at: str | None, reason: str, username: str | None
) -> None:
    """Record a trigger event on RECORDING_ID that starts policies counted from it."""
    setup()
    from overt.retention import clock
    from overt.retention.services import add_trigger

    actor = actor_for(username)
    when = parse_when(at, "--at") or clock.now()
    run_guarded(
        lambda: add_trigger(recording_id, kind, occurred_at=when, reason=reason, actor=actor)
    )
    click.echo(f"recording {recording_id}: {kind} at {when.isoformat()}")


@retention.command("recover")
@click.argument("recording_id", type=int)
@click.option("--reason", required=True, help="Why (custody log).")
@click.option("--keep-until", "keep", help="Keep it until this date (a review decision).")
@click.option("--as", "username", help=AS_HELP)
def retention_recover(
    recording_id: int, reason: str, keep: str | None, username: str | None
) -> None:
    """Bring RECORDING_ID back from the recycle bin, whole.

    It must not be due again at once: categorise or hold it first, or give --keep-until.
    """
    setup()
    from overt.retention.services import recover

    actor = actor_for(username)
    until = parse_when(keep, "--keep-until")
    run_guarded(lambda: recover(recording_id, reason=reason, actor=actor, keep_until_date=until))
    click.echo(f"recording {recording_id} recovered from the recycle bin")


@retention.command("certificate")
@click.argument("number")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder.")
def retention_certificate(number: str, out: Path | None) -> None:
    """Print deletion certificate NUMBER (JSON), or write NUMBER.json and NUMBER.pdf to --out.

    Without WeasyPrint's libraries the PDF is skipped with a message on stderr (an error
    under CI=true).
    """
    setup()
    from overt.retention import certificates

    cert = run_guarded(lambda: certificates.find(number))
    if out is None:
        click.echo(json.dumps(certificates.body(cert), indent=2, ensure_ascii=False))
        return
    files = run_guarded(lambda: certificates.write(cert, out))
    for path in files.paths():
        click.echo(str(path))
    if files.pdf_problem:
        click.echo(f"overt retention certificate: no PDF: {files.pdf_problem}", err=True)


@retention.command("schedule")
def retention_schedule() -> None:
    """Start the daily retention job (run by `overt worker`). Idempotent."""
    setup()
    from overt.retention.jobs import DAILY_JOB, ensure_scheduled

    job = ensure_scheduled()
    click.echo(f"{DAILY_JOB}: job {job.pk} due {job.params.get('due', 'now')}")


@retention.group("policy")
def policy() -> None:
    """Retention policies and which categories they cover."""


@policy.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def policy_list(as_json: bool) -> None:
    """List policies, their rules and categories; and categories with no policy.

    JSON: {policies: [{name, period, starts_from, at_expiry, rule, description,
    categories}], categories_without_policy: [...], uncategorised_default: rule}.
    """
    setup()
    from overt.retention.services import categories_without_policy, default_rule, policies

    data: dict[str, Any] = {
        "policies": [row.to_json() for row in policies()],
        "categories_without_policy": categories_without_policy(),
        "uncategorised_default": default_rule().describe(),
    }

    def text() -> None:
        for row in data["policies"]:
            cats = ", ".join(row["categories"]) or "(no categories)"
            click.echo(f"{row['name']:<24} {row['rule']:<48} {cats}")
        click.echo(f"{'(uncategorised)':<24} {data['uncategorised_default']}")
        if data["categories_without_policy"]:
            click.echo(
                "categories without a policy (kept indefinitely): "
                + ", ".join(data["categories_without_policy"])
            )

    emit(data, as_json, text)


@policy.command("set")
@click.argument("name")
@click.option("--keep", "period", required=True, help="How long: 31d, 6m, 6y, 1y6m, 2w ...")
@click.option(
    "--from",
    "starts_from",
    type=click.Choice(
        [
            "recorded",
            "case-closed",
            "complaint-closed",
            "conviction",
            "no-further-action",
            "review-date",
        ]
    ),
    default="recorded",
    show_default=True,
    help="Count from the recording time or from a trigger event.",
)
@click.option(
    "--then",
    "at_expiry",
    type=click.Choice(["delete", "review"]),
    required=True,
    help="At expiry: delete (recycle, then purge) or flag for review.",
)
@click.option("--description", default="", help="What the policy is for.")
@click.option("--as", "username", help=AS_HELP)
def policy_set(
    name: str,
    period: str,
    starts_from: str,
    at_expiry: str,
    description: str,
    username: str | None,
) -> None:
    """Create or change the policy NAME (a custody log config-change)."""
    setup()
    from overt.retention.rules import Period
    from overt.retention.services import set_policy

    actor = actor_for(username)
    policy_row = run_guarded(
        lambda: set_policy(
            name,
            period=Period.parse(period),
            starts_from=starts_from,
            at_expiry=at_expiry,
            description=description,
            actor=actor,
        )
    )
    click.echo(f"policy {policy_row.name}: {policy_row.rule().describe()}")


@policy.command("assign")
@click.argument("category")
@click.argument("policy_name")
@click.option("--as", "username", help=AS_HELP)
def policy_assign(category: str, policy_name: str, username: str | None) -> None:
    """Put CATEGORY (created if new) under the policy POLICY_NAME."""
    setup()
    from overt.retention.services import assign_policy

    actor = actor_for(username)
    run_guarded(lambda: assign_policy(category, policy_name, actor=actor))
    click.echo(f"category {category}: policy {policy_name}")
