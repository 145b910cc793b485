"""Evidence managers' commands: recordings and categories, holds, the retention run,
early deletion with two people, deletion certificates.

Exit status for all of them: 0 on success; 1 when the rules refuse the action (a hold,
the two-person rule, a date in the future, ...) or it failed, with the reason on stderr;
2 for a bad argument, such as a recording, category or user that does not exist.

Who acts: commands that change something take ``--as USERNAME``, a Django user of this
instance, which the custody log records as the actor. Without it, the actor is the
operating-system account (``system:cli:NAME``). Early deletion always needs ``--as``:
the two-person rule is about people, and both need the permission
``retention.approve_deletion``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

import click

from .bootstrap import setup

if TYPE_CHECKING:  # Django is set up only once a command runs
    from django.contrib.auth.models import User

    from overt.custody.services import Actor

T = TypeVar("T")

AS_HELP = "Act as this Django user (recorded in the custody log); default: the OS account."


def _emit(data: Any, as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        text()


def _run(work: Callable[[], T]) -> T:
    """Turn retention errors into a clear message and exit status."""
    from overt.evidence.store import StoreError
    from overt.retention.certificates import CertificateError, CertificateNotFound
    from overt.retention.rules import RuleError
    from overt.retention.services import NotFound, RetentionError

    try:
        return work()
    except (NotFound, RuleError, CertificateNotFound) as exc:
        raise click.BadParameter(str(exc)) from exc
    except (RetentionError, CertificateError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc


@overload
def _when(text: str, what: str = ...) -> datetime: ...
@overload
def _when(text: str | None, what: str = ...) -> datetime | None: ...
def _when(text: str | None, what: str = "--as-of") -> datetime | None:
    """A date (midnight UTC) or an ISO 8601 time (UTC if no offset is given)."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD) or ISO 8601 time", param_hint=what
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _actor(username: str | None) -> Actor:
    import getpass

    from overt.custody.services import Actor

    if username is None:
        return Actor.system(f"cli:{getpass.getuser()}")
    _user(username)
    return Actor("user", username)


def _user(username: str) -> User:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise click.BadParameter(f"no user {username!r} in this instance", param_hint="--as")
    return user


# --- overt recording ---------------------------------------------------------------------


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

        _emit(rows, as_json, text_deleted)
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

    _emit([row.to_json() for row in found], as_json, text)


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

    actor = _actor(username)
    result = _run(
        lambda: categorize(recording_id, category, actor=actor, remove=remove, reason=reason)
    )
    cats = ", ".join(result["categories"]) or "(none)"
    click.echo(f"recording {recording_id}: categories {cats}")
    if result["recovered"]:
        click.echo(f"recording {recording_id} is no longer due and was recovered from the bin")


# --- overt hold --------------------------------------------------------------------------


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

    actor = _actor(username)
    result = _run(
        lambda: set_hold(recording_id, kind=kind, reason=reason, actor=actor, reference=reference)
    )
    data = {**result.hold.to_json(), "recovered": result.recovered, "note": result.note}

    def text() -> None:
        click.echo(f"hold {result.hold.pk} ({kind}) placed on recording {recording_id}")
        if result.recovered:
            click.echo("it was in the recycle bin and has been recovered")
        if result.note:
            click.echo(result.note)

    _emit(data, as_json, text)


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

    actor = _actor(username)
    released = _run(
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

    _emit(rows, as_json, text)


# --- overt retention -----------------------------------------------------------------------


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

    report = _run(lambda: run_retention(_when(as_of), dry_run=dry_run))
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

    _emit(data, as_json, text)
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

    rows = upcoming(_when(as_of), days=days)

    def text() -> None:
        if not rows:
            click.echo(f"nothing due in the next {days} days")
        for row in rows:
            click.echo(
                f"{row.date:%Y-%m-%d}  {row.stage:<8} recording {row.recording:<8} "
                f"{row.officer:<10} {row.reason}"
            )

    _emit([row.to_json() for row in rows], as_json, text)


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

    _emit([row.to_json() for row in rows], as_json, text)


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

    _emit([row.to_json() for row in rows], as_json, text)


@retention.command("keep")
@click.argument("recording_id", type=int)
@click.option("--until", "until", required=True, help="Keep until this date (UTC).")
@click.option("--reason", required=True, help="The review's reason (custody log).")
@click.option("--as", "username", help=AS_HELP)
def retention_keep(recording_id: int, until: str, reason: str, username: str | None) -> None:
    """Record a review's decision to keep RECORDING_ID until a date (then review again)."""
    setup()
    from overt.retention.services import keep_until

    actor = _actor(username)
    when = _when(until, "--until")
    _run(lambda: keep_until(recording_id, when, reason=reason, actor=actor))
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

    actor = _actor(username)
    when = _when(at, "--at") or clock.now()
    _run(lambda: add_trigger(recording_id, kind, occurred_at=when, reason=reason, actor=actor))
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

    actor = _actor(username)
    until = _when(keep, "--keep-until")
    _run(lambda: recover(recording_id, reason=reason, actor=actor, keep_until_date=until))
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

    cert = _run(lambda: certificates.find(number))
    if out is None:
        click.echo(json.dumps(certificates.body(cert), indent=2, ensure_ascii=False))
        return
    files = _run(lambda: certificates.write(cert, out))
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

    _emit(data, as_json, text)


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

    actor = _actor(username)
    policy_row = _run(
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

    actor = _actor(username)
    _run(lambda: assign_policy(category, policy_name, actor=actor))
    click.echo(f"category {category}: policy {policy_name}")


# --- overt deletion -------------------------------------------------------------------------


@click.group()
def deletion() -> None:
    """Early deletion, which needs two different authorised people."""


@deletion.command("request")
@click.argument("recording_id", type=int)
@click.option("--reason", required=True, help="Why it should go early (custody log).")
@click.option("--as", "username", required=True, help="The requesting user.")
@click.option("--json", "as_json", is_flag=True, help="Print the request as JSON.")
def deletion_request(recording_id: int, reason: str, username: str, as_json: bool) -> None:
    """Ask for RECORDING_ID to be deleted before it is due. Another user must approve."""
    setup()
    from overt.retention.services import request_deletion

    user = _user(username)
    req = _run(lambda: request_deletion(recording_id, user=user, reason=reason))
    _emit(
        req.to_json(),
        as_json,
        lambda: click.echo(
            f"deletion request {req.pk} for recording {recording_id} waits for a second person"
        ),
    )


def _decide(request_id: int, reason: str, username: str, approve: bool, as_json: bool) -> None:
    setup()
    from overt.retention.services import decide_deletion

    user = _user(username)
    req = _run(lambda: decide_deletion(request_id, user=user, reason=reason, approve=approve))
    data = req.to_json()
    if approve:
        data["recoverable_until"] = req.disposal.purge_after.isoformat()

    def text() -> None:
        if approve:
            click.echo(
                f"deletion request {req.pk} approved: recording {req.recording_ref} is in the "
                f"recycle bin until {req.disposal.purge_after.isoformat()}, then purged"
            )
        else:
            click.echo(f"deletion request {req.pk} refused")

    _emit(data, as_json, text)


@deletion.command("approve")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why you approve (custody log).")
@click.option("--as", "username", required=True, help="The approving user (not the requester).")
@click.option("--json", "as_json", is_flag=True, help="Print the request as JSON.")
def deletion_approve(request_id: int, reason: str, username: str, as_json: bool) -> None:
    """Approve early deletion request REQUEST_ID: the recording goes to the recycle bin."""
    _decide(request_id, reason, username, True, as_json)


@deletion.command("refuse")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why you refuse (custody log).")
@click.option("--as", "username", required=True, help="The refusing user (not the requester).")
@click.option("--json", "as_json", is_flag=True, help="Print the request as JSON.")
def deletion_refuse(request_id: int, reason: str, username: str, as_json: bool) -> None:
    """Refuse early deletion request REQUEST_ID."""
    _decide(request_id, reason, username, False, as_json)


@deletion.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include decided requests.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def deletion_list(show_all: bool, as_json: bool) -> None:
    """List early deletion requests (pending ones unless --all)."""
    setup()
    from overt.retention.models import DeletionRequest

    requests = DeletionRequest.objects.select_related("requested_by", "decided_by")
    if not show_all:
        requests = requests.filter(status=DeletionRequest.Status.PENDING)
    rows = [r.to_json() for r in requests]

    def text() -> None:
        for row in rows:
            click.echo(
                f"{row['id']:>6}  recording {row['recording']:<8} {row['status']:<9} "
                f"by {row['requested_by']}: {row['reason']}"
            )

    _emit(rows, as_json, text)
