"""`overt token ...` and `overt access ...`: integration tokens, and the grants that widen or
narrow what someone may see. Who acts: see overt.cli.users."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click

from .bootstrap import setup
from .people import (
    AS_HELP,
    ROLES,
    actor_for,
    grant_errors,
    incident_named,
    officer_numbered,
    recording_numbered,
    user_named,
)

# --- tokens -----------------------------------------------------------------------------


@click.group("token")
def token() -> None:
    """Scoped API tokens for integrations (Authorization: Bearer ovt_...)."""


@token.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'RMS sync'.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help="Repeatable: list, view, stream, download, export, edit, redact, audit, read-custody.",
)
@click.option("--days", type=click.IntRange(1, 3650), help="Expire after this many days.")
@click.option("--as", "as_user", help=AS_HELP)
@grant_errors
def token_create(
    username: str, name: str, scopes: tuple[str, ...], days: int | None, as_user: str | None
) -> None:
    """Create a token acting as USERNAME, narrowed to the scopes. Prints it once."""
    setup()
    from overt.access.grants import create_token

    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    row, text = create_token(
        user_named(username), name, scopes, by=actor_for(as_user), expires_at=expires
    )
    click.echo(f"token {row.pk} for {username} ({', '.join(row.scopes)}):")
    click.echo(text)
    click.echo("Store it now: overt keeps only its hash.", err=True)


@token.command("revoke")
@click.argument("token_id", type=int)
@click.option("--as", "as_user", help=AS_HELP)
@grant_errors
def token_revoke(token_id: int, as_user: str | None) -> None:
    """Revoke a token: it is refused from the next request on."""
    setup()
    from overt.access.grants import revoke_token
    from overt.access.models import ApiToken

    row = ApiToken.objects.filter(pk=token_id).first()
    if row is None:
        raise click.BadParameter(f"no token {token_id}", param_hint="TOKEN_ID")
    revoke_token(row, by=actor_for(as_user))
    click.echo(f"revoked token {token_id}")


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def token_list(as_json: bool) -> None:
    """Tokens (never their secret), with state."""
    setup()
    from overt.access.models import ApiToken

    rows = [
        {
            "id": t.pk,
            "user": t.user.get_username(),
            "name": t.name,
            "prefix": t.prefix,
            "scopes": t.scopes,
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            "revoked": t.revoked_at is not None,
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        }
        for t in ApiToken.objects.select_related("user").order_by("id")
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        state = "revoked" if r["revoked"] else "active"
        click.echo(
            f"{r['id']:>4} {r['user']:<16} {r['name']:<24} {','.join(r['scopes']):<30} {state}"
        )


# --- access grants ----------------------------------------------------------------------


@click.group("access")
def access() -> None:
    """Assignments, shares, access classes, post-incident procedures."""


@access.command("assign")
@click.argument("username")
@click.option("--recording", "recording_id", type=int, help="One recording.")
@click.option("--incident", "reference", help="Every recording of this incident.")
@click.option("--reason", default="", help="Why (goes into the custody log).")
@click.option("--as", "as_user", help=AS_HELP)
@grant_errors
def access_assign(
    username: str, recording_id: int | None, reference: str | None, reason: str, as_user: str | None
) -> None:
    """Assign an investigator to a recording or an incident."""
    setup()
    from overt.access.grants import assign

    if (recording_id is None) == (reference is None):
        raise click.UsageError("give one of --recording or --incident")
    row = assign(
        user_named(username),
        by=actor_for(as_user),
        recording=recording_numbered(recording_id) if recording_id is not None else None,
        incident=incident_named(reference) if reference is not None else None,
        reason=reason,
    )
    click.echo(f"assignment {row.pk}: {username}")


@access.command("share")
@click.argument("recording_id", type=int)
@click.argument("username")
@click.option("--days", type=click.IntRange(1, 365), required=True, help="Expires after this.")
@click.option("--reason", default="", help="Why (goes into the custody log).")
@click.option("--as", "as_user", help=AS_HELP)
@grant_errors
def access_share(
    recording_id: int, username: str, days: int, reason: str, as_user: str | None
) -> None:
    """Share a recording with a prosecutor or the defence, for a limited time."""
    setup()
    from overt.access.grants import share

    expires = datetime.now(UTC) + timedelta(days=days)
    row = share(
        recording_numbered(recording_id),
        user_named(username),
        expires_at=expires,
        by=actor_for(as_user),
        reason=reason,
    )
    click.echo(
        f"share {row.pk}: recording {recording_id} to {username} until {expires:%Y-%m-%d %H:%M} UTC"
    )


@access.command("classify")
@click.argument("recording_id", type=int)
@click.argument("level", type=click.Choice(["restricted", "confidential", "none"]))
@click.option("--user", "usernames", multiple=True, help="Repeatable: a user who may see it.")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLES), help="Repeatable.")
@click.option("--reason", default="", help="Why (goes into the custody log).")
@click.option("--as", "as_user", help=AS_HELP)
@grant_errors
def access_classify(
    recording_id: int,
    level: str,
    usernames: tuple[str, ...],
    roles: tuple[str, ...],
    reason: str,
    as_user: str | None,
) -> None:
    """Mark a recording restricted or confidential (only the named users and roles see
    it), or 'none' to clear the mark."""
    setup()
    from overt.access.grants import clear_access_class, set_access_class

    recording = recording_numbered(recording_id)
    if level == "none":
        clear_access_class(recording, by=actor_for(as_user), reason=reason)
        click.echo(f"recording {recording_id}: no access class")
        return
    set_access_class(
        recording,
        level,
        by=actor_for(as_user),
        users=[user_named(u, "--user") for u in usernames],
        roles=roles,
        reason=reason,
    )
    click.echo(f"recording {recording_id}: {level}")


@access.command("post-incident")
@click.argument("reference")
@click.option("--officer", "officers", multiple=True, required=True, help="Repeatable: involved.")
@click.option("--manager", required=True, help="The Post Incident Manager's username.")
@click.option("--reason", default="", help="Why (goes into the custody log).")
@click.option("--as", "as_user", help=AS_HELP)
@grant_errors
def access_post_incident(
    reference: str, officers: tuple[str, ...], manager: str, reason: str, as_user: str | None
) -> None:
    """Put an incident under post-incident procedure: its footage is refused to the
    involved officers until the Post Incident Manager releases it."""
    setup()
    from overt.access.grants import start_post_incident

    row = start_post_incident(
        incident_named(reference),
        officers=[officer_numbered(o) for o in officers],
        manager=user_named(manager, "--manager"),
        by=actor_for(as_user),
        reason=reason,
    )
    click.echo(f"post-incident procedure {row.pk}: {reference}, manager {manager}")


@access.command("release")
@click.argument("reference")
@click.option("--as", "as_user", required=True, help="The Post Incident Manager (only they may).")
@click.option("--note", default="", help="Release note (goes into the custody log).")
@grant_errors
def access_release(reference: str, as_user: str, note: str) -> None:
    """Record the Post Incident Manager's release of an incident's footage."""
    setup()
    from overt.access.grants import release_post_incident
    from overt.access.models import PostIncidentProcedure

    row = PostIncidentProcedure.objects.filter(incident=incident_named(reference)).first()
    if row is None:
        raise click.UsageError(f"incident {reference} is not under post-incident procedure")
    release_post_incident(row, user_named(as_user, "--as"), note=note)
    click.echo(f"released {reference}")
