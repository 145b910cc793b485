"""Early deletion, with two people: one requests, a different one approves (then the
recording goes to the recycle bin) or refuses. Both need the permission
retention.approve_deletion, or a role with manage-retention; the database refuses a
decision by the requester, and nothing held can be requested or approved."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from overt.custody.services import Actor

from . import clock
from .common import NotFound, Refused, active_holds, locked_recording, log_action, open_disposal
from .disposal import recycle
from .models import DeletionRequest
from .rules import HOLD_KINDS

APPROVE_PERMISSION = "retention.approve_deletion"


def may_delete_early(user: User) -> bool:
    """The permission retention.approve_deletion, or a role with manage-retention."""
    if not user.is_active:
        return False
    if user.has_perm(APPROVE_PERMISSION):
        return True
    from overt.access.matrix import Capability
    from overt.access.services import capability

    return capability(user, Capability.MANAGE_RETENTION)


def _authorised(user: User, what: str) -> None:
    if not may_delete_early(user):
        raise Refused(
            f"{user.get_username()} may not {what}: it needs the permission "
            f"{APPROVE_PERMISSION} (or a role with manage-retention)"
        )


def _user_actor(user: User) -> Actor:
    return Actor("user", user.get_username())


def request_deletion(recording_id: int, *, user: User, reason: str) -> DeletionRequest:
    """The first of the two people: ask for a recording to be deleted before it is due."""
    _authorised(user, "request early deletion")
    if not reason.strip():
        raise Refused("an early deletion request needs a reason")
    with transaction.atomic():
        rec = locked_recording(recording_id)
        holds = active_holds(rec)
        if holds:
            raise Refused(
                f"recording {rec.pk} is held ({', '.join(HOLD_KINDS[h.kind] for h in holds)}); "
                "nothing held can be deleted"
            )
        if open_disposal(rec) is not None:
            raise Refused(f"recording {rec.pk} is already in the recycle bin")
        pending = DeletionRequest.objects.filter(
            recording=rec, status=DeletionRequest.Status.PENDING
        ).first()
        if pending is not None:
            raise Refused(f"recording {rec.pk} already has deletion request {pending.pk} pending")
        request = DeletionRequest.objects.create(
            recording=rec,
            recording_ref=rec.pk,
            requested_by=user,
            reason=reason,
            requested_at=clock.now(),
        )
        log_action(
            "delete",
            _user_actor(user),
            rec,
            justification=reason,
            details={"stage": "requested", "recording": rec.pk, "request": request.pk},
        )
    return request


def decide_deletion(
    request_id: int, *, user: User, reason: str, approve: bool
) -> DeletionRequest:
    """The second person: approve (the recording goes to the recycle bin) or refuse."""
    _authorised(user, "approve early deletion" if approve else "refuse early deletion")
    if not reason.strip():
        raise Refused("a decision on an early deletion needs a reason")
    recording_id = (
        DeletionRequest.objects.filter(pk=request_id).values_list("recording_id", flat=True).first()
    )
    if recording_id is None:
        raise NotFound(f"no pending deletion request {request_id}")
    with transaction.atomic():
        rec = locked_recording(recording_id)
        request = DeletionRequest.objects.select_for_update().get(pk=request_id)
        if request.status != DeletionRequest.Status.PENDING:
            raise Refused(f"deletion request {request.pk} is already {request.status}")
        if request.requested_by_id == user.pk:
            raise Refused(
                "early deletion needs two different people: the requester cannot approve or "
                "refuse their own request"
            )
        now = clock.now()
        request.decided_by = user
        request.decision_reason = reason
        request.decided_at = now
        if approve:
            holds = active_holds(rec)
            if holds:
                raise Refused(
                    f"recording {rec.pk} is held "
                    f"({', '.join(HOLD_KINDS[h.kind] for h in holds)}); nothing held can be deleted"
                )
            request.status = DeletionRequest.Status.APPROVED
        else:
            request.status = DeletionRequest.Status.REFUSED
        request.save()
        log_action(
            "delete",
            _user_actor(user),
            rec,
            justification=reason,
            details={
                "stage": "approved" if approve else "refused",
                "recording": rec.pk,
                "request": request.pk,
                "requested_by": request.requested_by.get_username(),
            },
        )
        if approve:
            disposal = recycle(rec.pk, as_of=now, actor=_user_actor(user), request=request)
            if disposal is None:
                raise Refused(f"recording {rec.pk} could not be moved to the recycle bin")
    return request
