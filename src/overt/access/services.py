"""The access service: the one place that decides what a user may see and do.

Callers never filter or check on their own: they ask `visible_recordings()` for any
listing or search and `check()` before any action on one recording. `allowed()` answers
the same question without logging, for deciding what to *show* (a button, a link).
The decisions come from the permission matrix in `overt.access.matrix`.

`check()` writes every refusal of a recording the user can otherwise see to the custody
log (`access-refused`), so a post-incident lock's refused attempts are on the record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any, cast

from django.db.models import Q, QuerySet
from django.utils import timezone

from overt import errors
from overt.evidence.models import Officer, Recording

from .identity import Standing, User, signed_in, standing
from .justify import categories
from .matrix import (
    BASE_RELATIONS,
    Action,
    Capability,
    Relation,
    Role,
    allowed_actions,
    cell,
    has_capability,
)
from .reading import one_reading, remembered

__all__ = [
    "AccessDenied",
    "Action",
    "Capability",
    "Relation",
    "Role",
    "User",  # the type callers give their users
    "actions_allowed",
    "allowed",
    "capability",
    "check",
    "justification_categories",
    "one_reading",
    "relations",
    "require",
    "role_of",
    "visible_recordings",
]


class AccessDenied(errors.Refused, PermissionError):
    """The user may not do this. The message is safe to show: it reveals nothing."""


def role_of(user: User | None) -> Role | None:
    return standing(user).role


# --- relations --------------------------------------------------------------------------

# The `case` relation is kept by overt.cases, a later stage that this one may not import:
# at start-up it registers the function that answers "which recordings (of these) are
# items of a case the user is on now" (user id, one recording id or None for all).
CaseRecordings = Callable[[int, int | None], frozenset[int]]
_case_recordings: list[CaseRecordings] = []


def register_case_recordings(source: CaseRecordings) -> None:
    """Called once by overt.cases' AppConfig.ready()."""
    if source not in _case_recordings:
        _case_recordings.append(source)


def _on_case(user_id: int, recording_id: int | None) -> frozenset[int]:
    found: frozenset[int] = frozenset()
    for source in _case_recordings:
        found |= source(user_id, recording_id)
    return found


@dataclass(frozen=True)
class _Sets:
    """The small id sets that decide relations, read once per listing or check."""

    assigned_recordings: frozenset[int]
    assigned_incidents: frozenset[int]
    shared: frozenset[int]
    case: frozenset[int]
    restricted: frozenset[int]
    locked_incidents: frozenset[int]
    glass: frozenset[int]


def _sets(who: Standing, recording_id: int | None = None) -> _Sets:
    key = ("sets", who.user_id, who.role, who.officer_id, recording_id)
    return cast(_Sets, remembered(key, lambda: _read_sets(who, recording_id)))


def _read_sets(who: Standing, recording_id: int | None = None) -> _Sets:
    from .models import AccessClass, Assignment, BreakGlass, PostIncidentProcedure, Share

    assert who.user_id is not None  # every caller has already answered for no user

    now = timezone.now()

    def narrow(qs: QuerySet[Any, Any], field: str = "recording_id") -> QuerySet[Any, Any]:
        return qs.filter(**{field: recording_id}) if recording_id is not None else qs

    assignments = Assignment.objects.filter(user_id=who.user_id, ended_at__isnull=True)
    restricted = AccessClass.objects.exclude(members__user_id=who.user_id)
    if who.role is not None:
        restricted = restricted.exclude(members__role=who.role.value)
    locked: frozenset[int] = frozenset()
    if who.officer_id is not None:
        locked = frozenset(
            PostIncidentProcedure.objects.filter(
                released_at__isnull=True, officers__id=who.officer_id
            ).values_list("incident_id", flat=True)
        )
    return _Sets(
        assigned_recordings=frozenset(
            narrow(assignments.filter(recording__isnull=False)).values_list(
                "recording_id", flat=True
            )
        ),
        assigned_incidents=frozenset(
            assignments.filter(incident__isnull=False).values_list("incident_id", flat=True)
        ),
        shared=frozenset(
            narrow(Share.active(now).filter(grantee_id=who.user_id)).values_list(
                "recording_id", flat=True
            )
        ),
        case=_on_case(who.user_id, recording_id),
        restricted=frozenset(narrow(restricted).values_list("recording_id", flat=True)),
        locked_incidents=locked,
        glass=frozenset(
            narrow(BreakGlass.objects.filter(user_id=who.user_id, expires_at__gt=now)).values_list(
                "recording_id", flat=True
            )
        ),
    )


def _relations(who: Standing, recording: Recording, sets: _Sets) -> frozenset[Relation]:
    found: set[Relation] = set()
    if who.officer_id is not None and recording.officer_id == who.officer_id:
        found.add(Relation.OWN)
    elif who.team and _team_of(recording) == who.team:
        found.add(Relation.TEAM)
    if recording.pk in sets.assigned_recordings or (
        recording.incident_id is not None and recording.incident_id in sets.assigned_incidents
    ):
        found.add(Relation.ASSIGNED)
    if recording.pk in sets.shared:
        found.add(Relation.SHARED)
    if recording.pk in sets.case:
        found.add(Relation.CASE)
    if not found:
        found.add(Relation.OTHER)
    if recording.pk in sets.restricted:
        found.add(Relation.RESTRICTED)
    if recording.incident_id is not None and recording.incident_id in sets.locked_incidents:
        found.add(Relation.LOCKED)
    if recording.pk in sets.glass:
        found.add(Relation.BREAK_GLASS)
    return frozenset(found)


def _team_of(recording: Recording) -> str:
    # The officer a select_related already loaded, if any.
    officer = cast(
        "Officer | None", Recording.officer.field.get_cached_value(recording, default=None)
    )
    if officer is None:
        officer = Officer.objects.only("team").get(pk=recording.officer_id)
    return officer.team


def relations(user: User | None, recording: Recording) -> frozenset[Relation]:
    """How `recording` stands to `user` (see overt.access.matrix)."""
    who = standing(user)
    if who.user_id is None:
        return frozenset()
    return _relations(who, recording, _sets(who, recording.pk))


def _actions(
    user: User | None, recording: Recording
) -> tuple[Standing, frozenset[Relation], frozenset[Action]]:
    who = standing(user)
    if who.user_id is None:
        return who, frozenset(), frozenset()
    found = _relations(who, recording, _sets(who, recording.pk))
    actions = allowed_actions(who.role, found)
    if who.scopes is not None:
        actions = frozenset(a for a in actions if a.value in who.scopes)
    return who, found, actions


def allowed(user: User | None, action: Action | str, recording: Recording) -> bool:
    """May `user` take `action` on `recording`? No logging: for what to show."""
    return Action(action) in actions_allowed(user, recording)


def actions_allowed(user: User | None, recording: Recording) -> frozenset[Action]:
    """Every action `user` may take on `recording`, from one look at the relations: for
    pages that show several controls. No logging."""
    return _actions(user, recording)[2]


def check(
    user: User | None, action: Action | str, recording: Recording, *, client: Any = None
) -> None:
    """Raise AccessDenied unless `user` may take `action` on `recording`.

    Every refusal is written to the custody log (`access-refused`, with the relations and
    the reason); the message of a refusal of a recording the user may not even know of
    reveals nothing about it.
    """
    action = Action(action)
    if not signed_in(user):
        raise AccessDenied("sign in to see evidence")
    who, found, actions = _actions(user, recording)
    if action in actions:
        return
    if Relation.LOCKED in found and action in _unlocked(who, found):
        why = (
            "this recording's incident is under post-incident procedure: involved officers "
            "may not see its footage until the Post Incident Manager releases it"
        )
    elif Action.LIST not in actions:
        why = "no such recording, or you may not see it"  # reveals nothing
    elif who.scopes is not None and action.value not in who.scopes:
        why = f"this API token's scopes do not include {action.value!r}"
    else:
        why = f"your role ({who.role or 'none'}) may not {action.value} this recording"
    _log_refusal(who, action, recording, found, why, client)
    raise AccessDenied(why)


def _unlocked(who: Standing, found: frozenset[Relation]) -> frozenset[Action]:
    return allowed_actions(who.role, found - {Relation.LOCKED})


def _log_refusal(
    who: Standing,
    action: Action,
    recording: Recording,
    found: frozenset[Relation],
    why: str,
    client: Any,
) -> None:
    from overt.custody.services import Actor

    from .recording_log import record_for_recording

    record_for_recording(
        "access-refused",
        Actor("user", who.username),
        recording,
        client=client,
        details={
            "action": action.value,
            "relations": sorted(r.value for r in found),
            "role": who.role.value if who.role else "",
            "reason": why,
        },
    )


# --- listings ---------------------------------------------------------------------------


def visible_recordings(
    user: User | None, recordings: QuerySet[Recording] | None = None
) -> QuerySet[Recording]:
    """The recordings this user may know exist (the `list` action), narrowed from
    `recordings`. Every listing, search and id lookup starts here."""
    recordings = Recording.objects.all() if recordings is None else recordings
    return permitted(user, Action.LIST, recordings)


def permitted(
    user: User | None, action: Action | str, recordings: QuerySet[Recording] | None = None
) -> QuerySet[Recording]:
    """`recordings` narrowed to those on which `user` may take `action`: the matrix as SQL."""
    action = Action(action)
    recordings = Recording.objects.all() if recordings is None else recordings
    who = standing(user)
    if who.user_id is None or who.role is None:
        return recordings.none()
    if who.scopes is not None and action.value not in who.scopes:
        return recordings.none()
    sets = _sets(who)
    everything = Q()
    granted = _base_q(who, action, sets)  # None: nothing; Q(): everything
    if granted is not None and sets.restricted:
        if action not in cell(who.role, Relation.RESTRICTED):
            granted &= ~Q(pk__in=sets.restricted)  # Q() & x is x, as wanted
    if action in cell(who.role, Relation.BREAK_GLASS) and sets.glass:
        glass = Q(pk__in=sets.glass)
        if granted is None:
            granted = glass
        elif granted != everything:  # Q() | x would be x: "everything" must stay so
            granted |= glass
    if granted is None:
        return recordings.none()
    if action not in cell(who.role, Relation.LOCKED) and sets.locked_incidents:
        granted &= ~Q(incident_id__in=sets.locked_incidents)
    return recordings if granted == everything else recordings.filter(granted)


def _base_q(who: Standing, action: Action, sets: _Sets) -> Q | None:
    """Q for the base relations that grant `action`; Q() for everything, None for nothing."""
    named: dict[Relation, Q | None] = {
        Relation.OWN: Q(officer_id=who.officer_id) if who.officer_id is not None else None,
        Relation.TEAM: _team_q(who),
        Relation.ASSIGNED: _or(
            [
                Q(pk__in=sets.assigned_recordings) if sets.assigned_recordings else None,
                Q(incident_id__in=sets.assigned_incidents) if sets.assigned_incidents else None,
            ]
        ),
        Relation.SHARED: Q(pk__in=sets.shared) if sets.shared else None,
        Relation.CASE: Q(pk__in=sets.case) if sets.case else None,
    }
    granting = [r for r in BASE_RELATIONS if action in cell(who.role, r)]
    if Relation.OTHER in granting:
        refused = [q for r, q in named.items() if r not in granting and q is not None]
        if not refused:
            return Q()
        # Everything except what only a non-granting relation covers.
        allowed_q = _or([q for r, q in named.items() if r in granting])
        not_refused = ~_or(refused)  # type: ignore[operator]  # refused is not empty: a Q
        return not_refused if allowed_q is None else not_refused | allowed_q
    return _or([named[r] for r in granting if r in named])


def _team_q(who: Standing) -> Q | None:
    if not who.team:
        return None
    # The team's officers listed first (tens of ids), not a join or a subquery: with
    # either, PostgreSQL read every recording to find the team's (25-30 ms at 100,000,
    # in every search a supervisor makes); with the ids it reads the officer index.
    officers = remembered(
        ("team", who.team),
        lambda: list(Officer.objects.filter(team=who.team).values_list("pk", flat=True)),
    )
    team = Q(officer_id__in=officers)
    return team & ~Q(officer_id=who.officer_id) if who.officer_id is not None else team


def _or(parts: Sequence[Q | None]) -> Q | None:
    present = [p for p in parts if p is not None]
    return reduce(or_, present) if present else None


# --- capabilities -----------------------------------------------------------------------


def capability(user: User | None, what: Capability | str) -> bool:
    who = standing(user)
    if who.user_id is None:
        return False
    if who.scopes is not None and Capability(what).value not in who.scopes:
        return False
    return has_capability(who.role, Capability(what))


def require(user: User | None, what: Capability | str) -> None:
    """Raise AccessDenied unless the user's role has this capability."""
    if not signed_in(user):
        raise AccessDenied("sign in first")
    if not capability(user, what):
        role = role_of(user)
        raise AccessDenied(f"your role ({role or 'none'}) may not {Capability(what).value}")


# --- justification ----------------------------------------------------------------------


def justification_categories() -> tuple[str, ...]:
    """The reasons offered before viewing, streaming, downloading or exporting footage
    (OVERT_JUSTIFICATION_CATEGORIES)."""
    return categories()
