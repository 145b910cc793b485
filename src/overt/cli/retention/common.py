"""What the evidence managers' commands share: printing text or JSON, turning retention
errors into a message and exit status, reading dates, and who acts (``--as``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, overload

import click

if TYPE_CHECKING:  # Django is set up only once a command runs
    from django.contrib.auth.models import User

    from overt.custody.services import Actor

T = TypeVar("T")

AS_HELP = "Act as this Django user (recorded in the custody log); default: the OS account."


def emit(data: Any, as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        text()


def run_guarded(work: Callable[[], T]) -> T:
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
def parse_when(text: str, what: str = ...) -> datetime: ...
@overload
def parse_when(text: str | None, what: str = ...) -> datetime | None: ...
def parse_when(text: str | None, what: str = "--as-of") -> datetime | None:
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


def actor_for(username: str | None) -> Actor:
    import getpass

    from overt.custody.services import Actor

    if username is None:
        return Actor.system(f"cli:{getpass.getuser()}")
    user_named(username)
    return Actor("user", username)


def user_named(username: str) -> User:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise click.BadParameter(f"no user {username!r} in this instance", param_hint="--as")
    return user
