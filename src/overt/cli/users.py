"""`overt user ...`, `overt token ...` and `overt access ...`: people, roles, integration
tokens and the grants that widen or narrow what someone may see.

Who acts: commands that change something take ``--as USERNAME``, a user of this instance
(recorded in the custody log as that user); without it the actor is the operating-system
account (``system:cli:NAME``). Every change is written to the custody log.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ParamSpec, TypeVar, overload

import click

from .bootstrap import setup

if TYPE_CHECKING:  # Django is set up only once a command runs
    from django.contrib.auth.models import User

    from overt.custody.services import Actor
    from overt.evidence.models import Incident, Officer, Recording

P = ParamSpec("P")
T = TypeVar("T")

AS_HELP = "Record the change as this overt user (default: the operating-system account)."
ROLES = [
    "officer",
    "supervisor",
    "evidence-manager",
    "investigator",
    "prosecutor",
    "auditor",
    "admin",
]


def _actor(username: str | None) -> Actor:
    import getpass

    from overt.custody.services import Actor

    if username is None:
        return Actor.system(f"cli:{getpass.getuser()}")
    _user(username, "--as")
    return Actor("user", username)


def _user(username: str, hint: str = "USERNAME") -> User:
    from django.contrib.auth import get_user_model

    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise click.BadParameter(
            f"no user {username!r} in this instance", param_hint=hint
        ) from None


@overload
def _officer(number: str) -> Officer: ...
@overload
def _officer(number: str | None) -> Officer | None: ...
def _officer(number: str | None) -> Officer | None:
    if number is None:
        return None
    from overt.evidence.models import Officer

    try:
        return Officer.objects.get(number=number)
    except Officer.DoesNotExist:
        raise click.BadParameter(
            f"no officer {number!r} (add one with `overt officer add`)", param_hint="--officer"
        ) from None


def _recording(recording_id: int) -> Recording:
    from overt.evidence.models import Recording

    try:
        return Recording.objects.get(pk=recording_id)
    except Recording.DoesNotExist:
        raise click.BadParameter(f"no recording {recording_id}", param_hint="RECORDING") from None


def _incident(reference: str) -> Incident:
    from overt.evidence.models import Incident

    try:
        return Incident.objects.get(reference=reference)
    except Incident.DoesNotExist:
        raise click.BadParameter(f"no incident {reference!r}", param_hint="INCIDENT") from None


def _grant_errors(fn: Callable[P, T]) -> Callable[P, T]:
    """Turn a refused grant into a usage error (exit 2) with the reason."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            # Imported here: Django is set up only once the command has run setup().
            from overt.access.grants import GrantError
            from overt.access.services import AccessDenied

            if isinstance(exc, GrantError):
                raise click.UsageError(str(exc)) from None
            if isinstance(exc, AccessDenied):
                click.echo(f"refused: {exc}", err=True)
                sys.exit(3)
            raise

    return wrapper


# --- users ------------------------------------------------------------------------------


@click.group("user")
def user() -> None:
    """Users and their roles (one role each; see docs/access.md)."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="The user's one role.")
@click.option("--officer", "officer_number", help="Link to this officer (officers, supervisors).")
@click.option("--team", default="", help="The team a supervisor supervises.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
@click.option("--email", default="", help="E-mail address (informational).")
@click.option("--as", "as_user", help=AS_HELP)
@_grant_errors
def user_add(
    username: str,
    role: str,
    officer_number: str | None,
    team: str,
    password_stdin: bool,
    email: str,
    as_user: str | None,
) -> None:
    """Add a user with a role. Without --password-stdin the user can sign in only by SSO.

    Roles above the two-factor threshold (OVERT_TOTP_REQUIRED_FROM) set up TOTP at their
    first sign-in.
    """
    setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from overt.access.accounts import add_user

    users = get_user_model()
    if users.objects.filter(username=username).exists():
        raise click.UsageError(
            f"user {username!r} exists already (change a role with `overt user role`)"
        )
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise click.UsageError("password refused: " + " ".join(exc.messages)) from None
    add_user(
        username,
        role=role,
        by=_actor(as_user),
        email=email,
        password=password,
        officer=_officer(officer_number),
        team=team,
    )
    click.echo(f"added {username} ({role})")


@user.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--officer", "officer_number", help="Link to this officer (officers, supervisors).")
@click.option("--team", default="", help="The team a supervisor supervises.")
@click.option("--as", "as_user", help=AS_HELP)
@_grant_errors
def user_role(
    username: str, role: str, officer_number: str | None, team: str, as_user: str | None
) -> None:
    """Change a user's role (logged as a permission change). Their open sessions must
    pass the second factor again where the new role needs it."""
    setup()
    from overt.access.grants import set_role

    set_role(_user(username), role, by=_actor(as_user), officer=_officer(officer_number), team=team)
    click.echo(f"{username} is now {role}")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def user_list(as_json: bool) -> None:
    """Users with their role, officer, team, second factor and lockout state."""
    setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from overt.access.models import Lockout, UserProfile

    profiles = {p.user_id: p for p in UserProfile.objects.select_related("officer")}
    totp = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    locked = set(
        Lockout.objects.filter(until__gt=timezone.now(), cleared_at__isnull=True)
        .exclude(username="")
        .values_list("username", flat=True)
    )
    rows = []
    for u in get_user_model().objects.order_by("username"):
        profile = profiles.get(u.pk)
        rows.append(
            {
                "username": u.get_username(),
                "role": profile.role if profile else None,
                "officer": profile.officer.number if profile and profile.officer else None,
                "team": profile.team if profile else "",
                "active": u.is_active,
                "totp": u.pk in totp,
                "locked": u.get_username() in locked,
                "last_login": u.last_login.isoformat() if u.last_login else None,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        flags = [f for f in ("totp", "locked") if row[f]] + ([] if row["active"] else ["disabled"])
        click.echo(
            f"{row['username']:<20} {row['role'] or '(no role)':<17} "
            f"{row['officer'] or '':<10} {row['team']:<24} {' '.join(flags)}"
        )


@user.command("unlock")
@click.argument("username")
@click.option("--as", "as_user", help=AS_HELP)
def user_unlock(username: str, as_user: str | None) -> None:
    """End a lockout after failed sign-ins early."""
    setup()
    from overt.access.auth import unlock

    count = unlock(username, by=_actor(as_user))
    click.echo(f"unlocked {username}" if count else f"{username} was not locked")


@user.command("reset-totp")
@click.argument("username")
@click.option("--as", "as_user", help=AS_HELP)
def user_reset_totp(username: str, as_user: str | None) -> None:
    """Remove a user's TOTP device: they set up a new one at their next sign-in."""
    setup()
    from overt.access.accounts import reset_totp

    deleted = reset_totp(_user(username), by=_actor(as_user))
    click.echo(f"removed {deleted} TOTP device(s) of {username}")


@user.command("disable")
@click.argument("username")
@click.option("--as", "as_user", help=AS_HELP)
def user_disable(username: str, as_user: str | None) -> None:
    """Stop a user signing in (their tokens stop too). Nothing is deleted."""
    setup()
    from overt.access.accounts import disable_user

    disable_user(_user(username), by=_actor(as_user))
    click.echo(f"disabled {username}")


@user.command("otp-code")
@click.argument("secret")
def user_otp_code(secret: str) -> None:
    """Print the current TOTP code for a base32 key, as an authenticator app would (like
    `oathtool --totp -b`). For the demo's printed keys; it knows no user's key itself."""
    import base64
    import time

    cleaned = secret.replace(" ", "").upper()
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError:
        raise click.BadParameter("not a base32 key", param_hint="SECRET") from None
    click.echo(_code(key, time.time()))


def _code(key: bytes, now: float) -> str:
    from django_otp.oath import TOTP

    generator = TOTP(key, step=30, t0=0, digits=6)
    generator.time = now
    return f"{generator.token():06d}"


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
@_grant_errors
def token_create(
    username: str, name: str, scopes: tuple[str, ...], days: int | None, as_user: str | None
) -> None:
    """Create a token acting as USERNAME, narrowed to the scopes. Prints it once."""
    setup()
    from overt.access.grants import create_token

    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    row, text = create_token(_user(username), name, scopes, by=_actor(as_user), expires_at=expires)
    click.echo(f"token {row.pk} for {username} ({', '.join(row.scopes)}):")
    click.echo(text)
    click.echo("Store it now: overt keeps only its hash.", err=True)


@token.command("revoke")
@click.argument("token_id", type=int)
@click.option("--as", "as_user", help=AS_HELP)
@_grant_errors
def token_revoke(token_id: int, as_user: str | None) -> None:
    """Revoke a token: it is refused from the next request on."""
    setup()
    from overt.access.grants import revoke_token
    from overt.access.models import ApiToken

    row = ApiToken.objects.filter(pk=token_id).first()
    if row is None:
        raise click.BadParameter(f"no token {token_id}", param_hint="TOKEN_ID")
    revoke_token(row, by=_actor(as_user))
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
@_grant_errors
def access_assign(
    username: str, recording_id: int | None, reference: str | None, reason: str, as_user: str | None
) -> None:
    """Assign an investigator to a recording or an incident."""
    setup()
    from overt.access.grants import assign

    if (recording_id is None) == (reference is None):
        raise click.UsageError("give one of --recording or --incident")
    row = assign(
        _user(username),
        by=_actor(as_user),
        recording=_recording(recording_id) if recording_id is not None else None,
        incident=_incident(reference) if reference is not None else None,
        reason=reason,
    )
    click.echo(f"assignment {row.pk}: {username}")


@access.command("share")
@click.argument("recording_id", type=int)
@click.argument("username")
@click.option("--days", type=click.IntRange(1, 365), required=True, help="Expires after this.")
@click.option("--reason", default="", help="Why (goes into the custody log).")
@click.option("--as", "as_user", help=AS_HELP)
@_grant_errors
def access_share(
    recording_id: int, username: str, days: int, reason: str, as_user: str | None
) -> None:
    """Share a recording with a prosecutor or the defence, for a limited time."""
    setup()
    from overt.access.grants import share

    expires = datetime.now(UTC) + timedelta(days=days)
    row = share(
        _recording(recording_id),
        _user(username),
        expires_at=expires,
        by=_actor(as_user),
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
@_grant_errors
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

    recording = _recording(recording_id)
    if level == "none":
        clear_access_class(recording, by=_actor(as_user), reason=reason)
        click.echo(f"recording {recording_id}: no access class")
        return
    set_access_class(
        recording,
        level,
        by=_actor(as_user),
        users=[_user(u, "--user") for u in usernames],
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
@_grant_errors
def access_post_incident(
    reference: str, officers: tuple[str, ...], manager: str, reason: str, as_user: str | None
) -> None:
    """Put an incident under post-incident procedure: its footage is refused to the
    involved officers until the Post Incident Manager releases it."""
    setup()
    from overt.access.grants import start_post_incident

    row = start_post_incident(
        _incident(reference),
        officers=[_officer(o) for o in officers],
        manager=_user(manager, "--manager"),
        by=_actor(as_user),
        reason=reason,
    )
    click.echo(f"post-incident procedure {row.pk}: {reference}, manager {manager}")


@access.command("release")
@click.argument("reference")
@click.option("--as", "as_user", required=True, help="The Post Incident Manager (only they may).")
@click.option("--note", default="", help="Release note (goes into the custody log).")
@_grant_errors
def access_release(reference: str, as_user: str, note: str) -> None:
    """Record the Post Incident Manager's release of an incident's footage."""
    setup()
    from overt.access.grants import release_post_incident
    from overt.access.models import PostIncidentProcedure

    row = PostIncidentProcedure.objects.filter(incident=_incident(reference)).first()
    if row is None:
        raise click.UsageError(f"incident {reference} is not under post-incident procedure")
    release_post_incident(row, _user(as_user, "--as"), note=note)
    click.echo(f"released {reference}")
