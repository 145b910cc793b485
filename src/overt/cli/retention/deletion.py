"""overt deletion: early deletion, which needs two different authorised people."""

from __future__ import annotations

import click

from ..bootstrap import setup
from .common import emit, run_guarded, user_named


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

    user = user_named(username)
    req = run_guarded(lambda: request_deletion(recording_id, user=user, reason=reason))
    emit(
        req.to_json(),
        as_json,
        lambda: click.echo(
            f"deletion request {req.pk} for recording {recording_id} waits for a second person"
        ),
    )


def _decide(request_id: int, reason: str, username: str, approve: bool, as_json: bool) -> None:
    setup()
    from overt.retention.services import decide_deletion

    user = user_named(username)
    req = run_guarded(
        lambda: decide_deletion(request_id, user=user, reason=reason, approve=approve)
    )
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

    emit(data, as_json, text)


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

    emit(rows, as_json, text)
