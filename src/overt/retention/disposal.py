"""The recycle bin: moving a due recording in (recycle), and bringing one back whole
(recover_whole, and reconsider after a change that can lengthen retention).

Nothing here removes bytes; that is overt.retention.purge. Each step locks the recording
and is a custody entry in its own transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from overt.custody.services import Actor
from overt.evidence.models import Derivative, Recording
from overt.evidence.store import EvidenceStore, get_store

from . import clock
from .common import (
    JOB_ACTOR,
    Refused,
    active_holds,
    category_names,
    iso,
    locked_recording,
    log_action,
    open_disposal,
)
from .facts import recycle_window, retention_of
from .models import DeletionRequest, Disposal
from .rules import DELETE


def _manifest(rec: Recording) -> dict[str, Any]:
    originals = list(rec.originals.order_by("pk"))
    derivatives = Derivative.objects.filter(original__recording=rec).order_by("pk")
    return {
        "recording": rec.pk,
        "officer": {
            "number": rec.officer.number,
            "name": rec.officer.name,
            "team": rec.officer.team,
        },
        "device": {"serial": rec.device.serial, "model": rec.device.model},
        "incident": rec.incident.reference if rec.incident else "",
        "trigger_on_at": iso(rec.trigger_on_at),
        "trigger_off_at": iso(rec.trigger_off_at),
        "categories": category_names(rec),
        "originals": [
            {
                "id": o.pk,
                "sha256": o.sha256,
                "size": o.size,
                "filename": o.filename,
                "started_at": iso(o.started_at),
                "stopped_at": iso(o.stopped_at),
                "ingested_at": iso(o.ingested_at),
            }
            for o in originals
        ],
        "derivatives": [
            {
                "id": d.pk,
                "original": d.original_id,
                "kind": d.kind,
                "sha256": d.sha256,
                "size": d.size,
            }
            for d in derivatives
        ],
    }


def recycle(
    recording_id: int,
    *,
    as_of: datetime,
    actor: Actor = JOB_ACTOR,
    request: DeletionRequest | None = None,
) -> Disposal | None:
    """Move a due recording into the recycle bin; None when, under the lock, it is not due
    (a hold arrived, a category changed, it is already there)."""
    with transaction.atomic():
        rec = locked_recording(recording_id)
        if open_disposal(rec) is not None or active_holds(rec):
            return None
        ret = retention_of(rec.pk, as_of)
        if request is None and not (ret.due(as_of) and ret.at_expiry == DELETE):
            return None
        now = clock.now()
        disposal = Disposal.objects.create(
            recording=rec,
            recording_ref=rec.pk,
            status=Disposal.Status.RECYCLED,
            basis=Disposal.Basis.EARLY if request else Disposal.Basis.POLICY,
            decided_by=(f"early deletion request {request.pk}" if request else ret.decided_by)[
                :300
            ],
            policy="" if request else ret.policy,
            due_at=None if request else ret.due_at,
            request=request,
            recycled_at=now,
            recycled_by=str(actor),
            purge_after=now + recycle_window(),
            manifest=_manifest(rec),
        )
        log_action(
            "delete",
            actor,
            rec,
            justification=(
                f"early deletion approved (request {request.pk})" if request else ret.explain()
            ),
            details={
                "stage": "recycle",
                "recording": rec.pk,
                "disposal": disposal.pk,
                "basis": disposal.basis,
                "policy": disposal.policy,
                "decided_by": disposal.decided_by,
                "due_at": iso(disposal.due_at),
                "recoverable_until": iso(disposal.purge_after),
            },
        )
    return disposal


def missing_objects(rec: Recording, store: EvidenceStore) -> list[str]:
    hashes = list(rec.originals.values_list("sha256", flat=True))
    hashes += Derivative.objects.filter(original__recording=rec).values_list("sha256", flat=True)
    return [h for h in hashes if not store.exists(h)]


def recover_whole(
    rec: Recording,
    disposal: Disposal,
    actor: Actor,
    reason: str,
    store: EvidenceStore | None,
) -> None:
    """Bring a recycled recording back, provided every object of it is still stored."""
    if disposal.status != Disposal.Status.RECYCLED:
        raise Refused(
            f"recording {rec.pk}'s purge has already removed {len(disposal.purged_objects)} "
            "object(s); it cannot come back whole"
        )
    missing = missing_objects(rec, store or get_store())
    if missing:
        raise Refused(
            f"recording {rec.pk} cannot come back whole: {len(missing)} object(s) are no longer "
            f"in the store (first: {missing[0]})"
        )
    disposal.status = Disposal.Status.RECOVERED
    disposal.recovered_at = clock.now()
    disposal.recovered_by = str(actor)
    disposal.recover_reason = reason
    disposal.save(update_fields=["status", "recovered_at", "recovered_by", "recover_reason"])
    log_action(
        "metadata-change",
        actor,
        rec,
        justification=reason,
        details={"change": "recovered-from-recycle", "recording": rec.pk, "disposal": disposal.pk},
    )


def reconsider(rec: Recording, actor: Actor, store: EvidenceStore | None) -> bool:
    """After a change that can lengthen retention: bring back a recycled recording that is
    no longer due. Early deletions (two-person) are not undone this way."""
    disposal = open_disposal(rec)
    if disposal is None or disposal.basis != Disposal.Basis.POLICY:
        return False
    if disposal.status != Disposal.Status.RECYCLED:
        return False
    now = clock.now()
    ret = retention_of(rec.pk, now)
    if ret.due(now) and ret.at_expiry == DELETE:
        return False
    recover_whole(rec, disposal, actor, f"no longer due: {ret.explain()}", store)
    return True
