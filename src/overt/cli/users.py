"""`overt user ...`: people and their roles, lockouts, TOTP and disabling (tokens and
grants: overt.cli.grants).

Who acts: commands that change something take ``--as USERNAME``, a user of this instance
(recorded in the custody log as that user); without it the actor is the operating-system
account (``system:cli:NAME``). Every change is written to the custody log.
"""

from __future__ import annotations

import json
import sys

import click

from .bootstrap import setup
from .people import AS_HELP, ROLES, actor_for, grant_errors, officer_numbered, user_named

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
@grant_errors
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
        by=actor_for(as_user),
        email=email,
        password=password,
        officer=officer_numbered(officer_number),
        team=team,
    )
    click.echo(f"added {username} ({role})")


@user.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--officer", "officer_number", help="Link to this officer (officers, supervisors).")
@click.option("--team", default="", help="The team a supervisor supervises.")
@click.option("--as", "as_user", help=AS_HELP)
@grant_errors
def user_role(
    username: str, role: str, officer_number: str | None, team: str, as_user: str | None
) -> None:
    """Change a user's role (logged as a permission change). Their open sessions must
    pass the second factor again where the new role needs it."""
    setup()
    from overt.access.grants import set_role

    set_role(
        user_named(username),
        role,
        by=actor_for(as_user),
        officer=officer_numbered(officer_number),
        team=team,
    )
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

    count = unlock(username, by=actor_for(as_user))
    click.echo(f"unlocked {username}" if count else f"{username} was not locked")


@user.command("reset-totp")
@click.argument("username")
@click.option("--as", "as_user", help=AS_HELP)
def user_reset_totp(username: str, as_user: str | None) -> None:
    """Remove a user's TOTP device: they set up a new one at their next sign-in."""
    setup()
    from overt.access.accounts import reset_totp

    deleted = reset_totp(user_named(username), by=actor_for(as_user))
    click.echo(f"removed {deleted} TOTP device(s) of {username}")


@user.command("disable")
@click.argument("username")
@click.option("--as", "as_user", help=AS_HELP)
def user_disable(username: str, as_user: str | None) -> None:
    """Stop a user signing in (their tokens stop too). Nothing is deleted."""
    setup()
    from overt.access.accounts import disable_user

    disable_user(user_named(username), by=actor_for(as_user))
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
