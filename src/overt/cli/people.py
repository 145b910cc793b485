"""What the people commands (`overt user`, `overt token`, `overt access`) share: the roles,
who acts (``--as``), looking up the user, officer, recording or incident a command names,
and turning a refused grant into a CLI error."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar, overload

import click

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


def actor_for(username: str | None) -> Actor:
    import getpass

    from overt.custody.services import Actor

    if username is None:
        return Actor.system(f"cli:{getpass.getuser()}")
    user_named(username, "--as")
    return Actor("user", username)


def user_named(username: str, hint: str = "USERNAME") -> User:
    from django.contrib.auth import get_user_model

    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise click.BadParameter(
            f"no user {username!r} in this instance", param_hint=hint
        ) from None


@overload
def officer_numbered(number: str) -> Officer: ...
@overload
def officer_numbered(number: str | None) -> Officer | None: ...
def officer_numbered(number: str | None) -> Officer | None:
    if number is None:
        return None
    from overt.evidence.models import Officer

    try:
        return Officer.objects.get(number=number)
    except Officer.DoesNotExist:
        raise click.BadParameter(
            f"no officer {number!r} (add one with `overt officer add`)", param_hint="--officer"
        ) from None


def recording_numbered(recording_id: int) -> Recording:
    from overt.evidence.models import Recording

    try:
        return Recording.objects.get(pk=recording_id)
    except Recording.DoesNotExist:
        raise click.BadParameter(f"no recording {recording_id}", param_hint="RECORDING") from None


def incident_named(reference: str) -> Incident:
    from overt.evidence.models import Incident

    try:
        return Incident.objects.get(reference=reference)
    except Incident.DoesNotExist:
        raise click.BadParameter(f"no incident {reference!r}", param_hint="INCIDENT") from None


def grant_errors(fn: Callable[P, T]) -> Callable[P, T]:
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
