"""What every retention service module shares: the domain errors, the actor of the daily
job, and the helpers that lock a recording, find its holds and log to custody.

The errors are domain errors, never HTTP ones: each edge maps them (the CLI: NotFound
exits 2, any other RetentionError exits 1; the API's edit of categories: a 400 naming
the field).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Q

from overt import errors
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Recording

from . import clock
from .models import Disposal, Hold, Tombstone
from .rules import HoldFact

OPEN = (Disposal.Status.RECYCLED, Disposal.Status.PURGING)
JOB_ACTOR = Actor.system("retention")


class RetentionError(errors.DomainError):
    """The retention action was refused or failed; the message says why."""


class NotFound(errors.NotFound, RetentionError):
    """No such recording, category, hold or request."""


class Refused(errors.Conflict, RetentionError):
    """The rules forbid the action (a hold, the two-person rule, a future date, ...)."""


def iso(value: datetime | None) -> str | None:
    """A UTC time as overt writes it in JSON and custody details (trailing Z)."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def locked_recording(recording_id: int) -> Recording:
    """The recording, locked for this transaction; a clear error if it is gone."""
    rec = (
        Recording.objects.select_for_update(of=("self",))
        .select_related("officer", "device", "incident")
        .filter(pk=recording_id)
        .first()
    )
    if rec is not None:
        return rec
    tomb = (
        Tombstone.objects.select_related("certificate").filter(recording_ref=recording_id).first()
    )
    if tomb is not None:
        raise Refused(
            f"recording {recording_id} was deleted on {tomb.deleted_at.date().isoformat()} under "
            f"deletion certificate {tomb.certificate.number}; nothing of it is left to act on"
        )
    raise NotFound(f"no recording {recording_id}")


def open_disposal(rec: Recording) -> Disposal | None:
    return Disposal.objects.select_for_update().filter(recording=rec, status__in=OPEN).first()


def _subjects(rec: Recording) -> list[Subject]:
    """One custody subject per original, so each original's history shows the action."""
    subjects = [
        Subject(sha, {"original": pk, "recording": rec.pk})
        for pk, sha in rec.originals.order_by("pk").values_list("pk", "sha256")
    ]
    return subjects or [Subject("", {"recording": rec.pk})]


def log_action(
    action: str, actor: Actor, rec: Recording, *, justification: str = "", details: dict[str, Any]
) -> None:
    """One custody entry per original of the recording, all at the same time."""
    now = clock.now()
    for subject in _subjects(rec):
        record(action, actor, subject, justification=justification, details=details, at=now)


def active_holds(rec: Recording) -> list[Hold | HoldFact]:
    """The recording's unreleased holds, and its incident's open post-incident procedure."""
    holds: list[Hold | HoldFact] = list(
        Hold.objects.filter(recording=rec, released_at__isnull=True)
    )
    if rec.incident_id is not None and rec.incident_id in procedures(None):
        holds.append(HoldFact("post-incident"))
    return holds


def procedures(as_of: datetime | None) -> dict[int, datetime | None]:
    """Incidents under a post-incident procedure (overt.access) that is not released, or
    was released only after `as_of`: {incident id: released at}. They hold their footage."""
    if not apps.is_installed("overt.access"):
        return {}
    procedure = apps.get_model("access", "PostIncidentProcedure")
    unreleased = Q(released_at__isnull=True)
    if as_of is not None:
        unreleased |= Q(released_at__gt=as_of)
    return dict(procedure.objects.filter(unreleased).values_list("incident_id", "released_at"))


def category_names(rec: Recording) -> list[str]:
    return sorted(rec.categories.values_list("name", flat=True))
