"""Moving a recording between incidents without moving who may see it.

An incident carries access of its own: investigators assigned to the whole incident, and
a post-incident procedure that locks its footage away from the involved officers. Linking
a recording to another incident (or to none) would hand that access over silently, so an
edit that changes the incident is only allowed when both incidents reach the same people,
unless the editor holds manage-access; then it is a logged `permission-change`. Lifting a
post-incident lock this way also needs the procedure's own Post Incident Manager, the one
person who may release it (overt.access.grants.release_post_incident).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from overt import errors
from overt.custody.services import Actor, Client, Subject, record, record_now
from overt.evidence.models import Incident, Officer, Recording

from .matrix import Capability
from .models import Assignment, PostIncidentProcedure
from .services import User, capability


@dataclass(frozen=True)
class Reach:
    """Who an incident's own grants and locks reach."""

    assigned_users: frozenset[int]
    locked_officers: frozenset[int]
    managers: frozenset[int]  # Post Incident Managers of its unreleased procedure


class MoveRefused(errors.Refused, PermissionError):
    """The move would change who may see the recording; the message says why."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


def reach(incident: Incident | None) -> Reach:
    if incident is None:
        return Reach(frozenset(), frozenset(), frozenset())
    assigned = Assignment.objects.filter(incident=incident, ended_at__isnull=True)
    procedures = PostIncidentProcedure.objects.filter(incident=incident, released_at__isnull=True)
    return Reach(
        frozenset(assigned.values_list("user_id", flat=True)),
        frozenset(procedures.values_list("officers__id", flat=True)) - {None},
        frozenset(procedures.values_list("manager_id", flat=True)),
    )


def _reference(incident: Incident | None) -> str | None:
    return incident.reference if incident is not None else None


def _usernames(ids: frozenset[int]) -> list[str]:
    users = get_user_model().objects.filter(pk__in=ids)
    return sorted(u.get_username() for u in users)


def _officers(ids: frozenset[int]) -> list[str]:
    return sorted(Officer.objects.filter(pk__in=ids).values_list("number", flat=True))


def check_move(
    user: User,
    recording: Recording,
    before: Incident | None,
    after: Incident | None,
) -> dict[str, Any] | None:
    """Raise MoveRefused unless `user` may move `recording` from `before` to `after`.

    Returns None when the move changes nobody's access, else the change to log (with
    `log_move`, in the edit's transaction)."""
    old, new = reach(before), reach(after)
    if (old.assigned_users, old.locked_officers) == (new.assigned_users, new.locked_officers):
        return None
    change = {
        "change": "incident-move",
        "recording": recording.pk,
        "from": _reference(before),
        "to": _reference(after),
        "assigned_gained": _usernames(new.assigned_users - old.assigned_users),
        "assigned_lost": _usernames(old.assigned_users - new.assigned_users),
        "locked": _officers(new.locked_officers - old.locked_officers),
        "unlocked": _officers(old.locked_officers - new.locked_officers),
    }
    if not capability(user, Capability.MANAGE_ACCESS):
        raise MoveRefused(
            "moving this recording to that incident would change who may see it; "
            "ask someone who manages access",
            change,
        )
    if change["unlocked"] and user.pk not in old.managers:
        raise MoveRefused(
            "this recording's incident is under post-incident procedure: only its Post "
            "Incident Manager may lift the lock",
            change,
        )
    return change


def log_move(
    change: dict[str, Any], actor: Actor, subject: Subject, reason: str, client: Client | None
) -> None:
    """The explicit record of a move that changed who may see the recording."""
    record("permission-change", actor, subject, justification=reason, client=client, details=change)


def log_refusal(
    refused: MoveRefused, actor: Actor, subject: Subject, client: Client | None
) -> None:
    """Committed on its own, after the refused edit rolled back."""
    record_now(
        "access-refused",
        actor,
        subject,
        client=client,
        details={"action": "edit", "reason": str(refused), **refused.details},
    )
