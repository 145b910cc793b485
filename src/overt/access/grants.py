"""Every change to who may see what: roles, assignments, shares, access classes,
post-incident procedures and API tokens (break-glass: overt.access.break_glass).

Each function changes its rows and writes the custody entry in one transaction, so a
grant never exists without its record. `by` is the custody Actor who made the change;
`client`, where a caller passes it, the network address and browser it came from.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from overt import errors
from overt.custody.services import Actor, Client, Subject, record, record_now
from overt.evidence.models import Incident, Officer, Recording

from .identity import forget
from .matrix import ROLES_WITH_OFFICER, ROLES_WITH_TEAM, Action, Capability, Role
from .models import (
    AccessClass,
    AccessClassMember,
    ApiToken,
    Assignment,
    PostIncidentProcedure,
    Share,
    UserProfile,
)
from .recording_log import record_for_recording
from .services import AccessDenied

TOKEN_PREFIX = "ovt_"  # noqa: S105 (a marker, not a secret)
TOKEN_SCOPES = frozenset(
    {a.value for a in Action} | {Capability.READ_CUSTODY.value, Capability.MANAGE_FLEET.value}
)  # what an integration may be given; never user or token management


class GrantError(errors.Invalid, ValueError):
    """The change is not allowed or makes no sense; the message says why."""


def _user_subject(user) -> Subject:
    return Subject("", {"user": user.get_username()})


# --- roles ------------------------------------------------------------------------------


@transaction.atomic
def set_role(
    user,
    role: Role | str,
    *,
    by: Actor,
    officer: Officer | None = None,
    team: str = "",
    client: Client | None = None,
) -> UserProfile:
    role = Role(role)
    if officer is not None and role not in ROLES_WITH_OFFICER:
        raise GrantError(
            f"only {' and '.join(sorted(ROLES_WITH_OFFICER))} users link to an officer"
        )
    if team and role not in ROLES_WITH_TEAM:
        raise GrantError("only supervisors have a team (an officer's team is their officer's)")
    if role is Role.OFFICER and officer is None:
        raise GrantError("an officer user needs --officer NUMBER (their own footage is theirs)")
    if role is Role.SUPERVISOR and not team and officer is None:
        raise GrantError("a supervisor needs --team TEAM (or --officer NUMBER for their own)")
    if officer is not None:
        taken = UserProfile.objects.filter(officer=officer).exclude(user=user).first()
        if taken is not None:
            raise GrantError(f"officer {officer.number} is already linked to user {taken.user}")
    profile = UserProfile.objects.filter(user=user).first()
    before = (
        {
            "role": profile.role,
            "officer": profile.officer.number if profile.officer else "",
            "team": profile.team,
        }
        if profile
        else {"role": "", "officer": "", "team": ""}
    )
    if profile is None:
        profile = UserProfile(user=user)
    profile.role, profile.officer, profile.team = role.value, officer, team
    profile.save()
    after = {"role": role.value, "officer": officer.number if officer else "", "team": team}
    record(
        "permission-change",
        by,
        _user_subject(user),
        client=client,
        details={"change": "role", "before": before, "after": after},
    )
    forget(user)
    return profile


# --- assignments and shares -------------------------------------------------------------


@transaction.atomic
def assign(
    user,
    *,
    by: Actor,
    recording: Recording | None = None,
    incident: Incident | None = None,
    reason: str = "",
    client: Client | None = None,
) -> Assignment:
    if (recording is None) == (incident is None):
        raise GrantError("assign to one recording or one incident")
    row = Assignment.objects.create(
        user=user, recording=recording, incident=incident, reason=reason, created_by=str(by)
    )
    # Exactly one of recording and incident is given (checked above).
    target = {"recording": recording.pk} if recording else {"incident": incident.reference}  # type: ignore[union-attr]
    change = {"change": "assign", "user": user.get_username(), **target}
    if recording is not None:
        record_for_recording(
            "permission-change", by, recording, justification=reason, client=client, details=change
        )
    else:  # as above: no recording means an incident
        record(
            "permission-change",
            by,
            Subject("", {"incident": incident.pk}),  # type: ignore[union-attr]
            justification=reason,
            client=client,
            details=change,
        )
    return row


@transaction.atomic
def end_assignment(row: Assignment, *, by: Actor, client: Client | None = None) -> None:
    row.ended_at, row.ended_by = timezone.now(), str(by)
    row.save(update_fields=["ended_at", "ended_by"])
    record(
        "permission-change",
        by,
        Subject("", {"assignment": row.pk}),
        client=client,
        details={"change": "unassign", "user": row.user.get_username()},
    )


@transaction.atomic
def share(
    recording: Recording,
    grantee,
    *,
    expires_at: datetime,
    by: Actor,
    reason: str = "",
    client: Client | None = None,
) -> Share:
    if expires_at <= timezone.now():
        raise GrantError("a share must expire in the future")
    row = Share.objects.create(
        recording=recording,
        grantee=grantee,
        expires_at=expires_at,
        reason=reason,
        created_by=str(by),
    )
    record_for_recording(
        "share",
        by,
        recording,
        justification=reason,
        client=client,
        details={
            "share": row.pk,
            "grantee": grantee.get_username(),
            "expires_at": expires_at.isoformat(),
        },
    )
    return row


@transaction.atomic
def revoke_share(row: Share, *, by: Actor, client: Client | None = None) -> None:
    row.revoked_at, row.revoked_by = timezone.now(), str(by)
    row.save(update_fields=["revoked_at", "revoked_by"])
    record_for_recording(
        "permission-change",
        by,
        row.recording,
        client=client,
        details={"change": "share-revoked", "share": row.pk, "grantee": row.grantee.get_username()},
    )


# --- access classes ---------------------------------------------------------------------


@transaction.atomic
def set_access_class(
    recording: Recording,
    level: str,
    *,
    by: Actor,
    users: Iterable = (),
    roles: Iterable[Role | str] = (),
    reason: str = "",
    client: Client | None = None,
) -> AccessClass:
    the_level = AccessClass.Level(level)
    users, the_roles = list(users), [Role(r) for r in roles]
    AccessClass.objects.filter(recording=recording).delete()
    row = AccessClass.objects.create(
        recording=recording, level=the_level, reason=reason, set_by=str(by)
    )
    AccessClassMember.objects.bulk_create(
        [AccessClassMember(access_class=row, user=u) for u in users]
        + [AccessClassMember(access_class=row, role=r.value) for r in the_roles]
    )
    record_for_recording(
        "permission-change",
        by,
        recording,
        justification=reason,
        client=client,
        details={
            "change": "access-class",
            "level": the_level.value,
            "users": sorted(u.get_username() for u in users),
            "roles": sorted(r.value for r in the_roles),
        },
    )
    return row


@transaction.atomic
def clear_access_class(
    recording: Recording, *, by: Actor, reason: str = "", client: Client | None = None
) -> None:
    deleted, _ = AccessClass.objects.filter(recording=recording).delete()
    if deleted:
        record_for_recording(
            "permission-change",
            by,
            recording,
            justification=reason,
            client=client,
            details={"change": "access-class-cleared"},
        )


# --- post-incident procedure ------------------------------------------------------------


@transaction.atomic
def start_post_incident(
    incident: Incident,
    *,
    officers: Iterable[Officer],
    manager,
    by: Actor,
    reason: str = "",
) -> PostIncidentProcedure:
    officers = list(officers)
    if not officers:
        raise GrantError("name at least one involved officer")
    if PostIncidentProcedure.objects.filter(incident=incident).exists():
        raise GrantError(f"incident {incident.reference} is already under post-incident procedure")
    row = PostIncidentProcedure.objects.create(
        incident=incident, manager=manager, reason=reason, started_by=str(by)
    )
    row.officers.set(officers)
    record(
        "permission-change",
        by,
        Subject("", {"incident": incident.pk}),
        justification=reason,
        details={
            "change": "post-incident-start",
            "incident": incident.reference,
            "officers": sorted(o.number for o in officers),
            "manager": manager.get_username(),
        },
    )
    return row


def release_post_incident(
    row: PostIncidentProcedure,
    user,
    *,
    note: str = "",
    client: Client | None = None,
) -> None:
    """The Post Incident Manager (and only they) releases the incident's footage."""
    actor = Actor("user", user.get_username())
    if row.manager_id != user.pk:
        record_now(  # committed on its own: the refusal must outlive the refused action
            "access-refused",
            actor,
            Subject("", {"incident": row.incident_id}),
            client=client,
            details={"action": "post-incident-release", "reason": "not the Post Incident Manager"},
        )
        raise AccessDenied("only this incident's Post Incident Manager may release it")
    with transaction.atomic():
        row = PostIncidentProcedure.objects.select_for_update().get(pk=row.pk)
        if row.released_at is not None:
            raise GrantError("already released")
        row.released_at, row.released_by, row.release_note = timezone.now(), str(actor), note
        row.save(update_fields=["released_at", "released_by", "release_note"])
        record(
            "permission-change",
            actor,
            Subject("", {"incident": row.incident_id}),
            justification=note,
            client=client,
            details={"change": "post-incident-release", "incident": row.incident.reference},
        )


# --- API tokens -------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def create_token(
    user,
    name: str,
    scopes: Iterable[str],
    *,
    by: Actor,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token: the row, and the token text (shown once, never stored)."""
    scopes = sorted(set(scopes))
    unknown = set(scopes) - TOKEN_SCOPES
    if unknown:
        raise GrantError(
            f"unknown scope(s) {', '.join(sorted(unknown))}; choose from "
            f"{', '.join(sorted(TOKEN_SCOPES))}"
        )
    if not scopes:
        raise GrantError("a token needs at least one scope")
    prefix = secrets.token_hex(4)
    text = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=token_digest(text),
        scopes=scopes,
        created_by=str(by),
        expires_at=expires_at,
    )
    record(
        "permission-change",
        by,
        _user_subject(user),
        details={"change": "token-created", "token": row.pk, "name": name, "scopes": scopes},
    )
    return row, text


@transaction.atomic
def revoke_token(row: ApiToken, *, by: Actor) -> None:
    if row.revoked_at is not None:
        raise GrantError(f"token {row.pk} is already revoked")
    row.revoked_at, row.revoked_by = timezone.now(), str(by)
    row.save(update_fields=["revoked_at", "revoked_by"])
    record(
        "permission-change",
        by,
        _user_subject(row.user),
        details={"change": "token-revoked", "token": row.pk, "name": row.name},
    )


def find_user(username: str):
    users = get_user_model()
    try:
        return users.objects.get(username=username)
    except users.DoesNotExist:
        raise GrantError(f"no user {username!r}") from None
