"""Holds: a hold stops recycling and purging, whatever the footage's age, and a hold
placed on a recording in the recycle bin brings it back at once.

The purge takes the same row lock (overt.retention.purge), so a hold committed before a
purge always wins, and one arriving during a purge is refused with its certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from overt.custody.services import Actor
from overt.evidence.store import EvidenceStore, get_store

from . import clock
from .common import NotFound, Refused, locked_recording, log_action, open_disposal
from .disposal import missing_objects, recover_whole
from .models import Disposal, Hold
from .rules import HOLD_KINDS


@dataclass
class HoldResult:
    hold: Hold
    recovered: bool = False
    note: str = ""


def set_hold(
    recording_id: int,
    *,
    kind: str = "legal",
    reason: str,
    actor: Actor,
    reference: str = "",
    store: EvidenceStore | None = None,
) -> HoldResult:
    """Place a hold. A recording in the recycle bin comes back; a purge stops."""
    if kind not in HOLD_KINDS:
        raise NotFound(f"unknown hold kind {kind!r} (one of {', '.join(HOLD_KINDS)})")
    if not reason.strip():
        raise Refused("a hold needs a reason")
    with transaction.atomic():
        rec = locked_recording(recording_id)
        now = clock.now()
        hold = Hold.objects.create(
            kind=kind,
            recording=rec,
            recording_ref=rec.pk,
            reference=reference,
            reason=reason,
            set_by=str(actor),
            set_at=now,
        )
        log_action(
            "hold-set",
            actor,
            rec,
            justification=reason,
            details={"recording": rec.pk, "hold": hold.pk, "kind": kind, "reference": reference},
        )
        result = HoldResult(hold)
        disposal = open_disposal(rec)
        if disposal is not None and disposal.status == Disposal.Status.RECYCLED:
            missing = missing_objects(rec, store or get_store())
            if missing:
                result.note = (
                    f"{len(missing)} object(s) were already removed by an interrupted purge; "
                    "the rest is kept under the hold"
                )
            else:
                recover_whole(rec, disposal, actor, f"{HOLD_KINDS[kind]} set: {reason}", store)
                result.recovered = True
        elif disposal is not None:
            gone = len(disposal.purged_objects)
            result.note = (
                f"a purge had already removed {gone} object(s) before failing; it stops here "
                "and the rest is kept under the hold"
            )
    return result


def release_hold(
    recording_id: int,
    *,
    reason: str,
    actor: Actor,
    hold_id: int | None = None,
    kind: str | None = None,
) -> Hold:
    """Release one active hold (the only one, or the one named by id or kind)."""
    if not reason.strip():
        raise Refused("releasing a hold needs a reason")
    with transaction.atomic():
        rec = locked_recording(recording_id)
        holds = Hold.objects.select_for_update().filter(recording=rec, released_at__isnull=True)
        if hold_id is not None:
            holds = holds.filter(pk=hold_id)
        if kind is not None:
            holds = holds.filter(kind=kind)
        found = list(holds)
        if not found:
            raise NotFound(f"recording {rec.pk} has no matching active hold")
        if len(found) > 1:
            listed = "; ".join(f"hold {h.pk} ({h.kind}: {h.reason})" for h in found)
            raise Refused(
                f"recording {rec.pk} has {len(found)} active holds ({listed}); name one with --hold"
            )
        hold = found[0]
        hold.released_at = clock.now()
        hold.released_by = str(actor)
        hold.release_reason = reason
        hold.save(update_fields=["released_at", "released_by", "release_reason"])
        log_action(
            "hold-release",
            actor,
            rec,
            justification=reason,
            details={"recording": rec.pk, "hold": hold.pk, "kind": hold.kind},
        )
    return hold
