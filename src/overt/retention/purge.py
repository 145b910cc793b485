"""The purge: a recycled recording's bytes leave the store, its certificate is issued,
and a tombstone takes its place in the catalogue.

Under the recording's lock, in one transaction, the purge re-checks holds and (for policy
deletions) that the recording is still due. A store error part-way commits what was
removed, catalogue and store alike, and the next run finishes it; an Object Lock at the
store defers the purge to the day the lock ends.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from overt.custody.canonical import canonical_json
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Derivative, Original, Recording
from overt.evidence.store import EvidenceStore, ObjectLocked, StoreError, get_store

from . import clock
from .certificates import certificate_body
from .common import JOB_ACTOR, active_holds, category_names, iso, locked_recording
from .disposal import missing_objects, recover_whole
from .facts import retention_of
from .models import DeletionCertificate, DeletionRequest, Disposal, Hold, Tombstone
from .references import blockers, clear_refs
from .rules import DELETE, HOLD_KINDS

log = logging.getLogger(__name__)

Observer = Callable[[str, dict[str, Any]], None]


@dataclass
class Outcome:
    recording: int
    action: str  # recycled, purged, recovered, deferred, failed, blocked, held, review, ...
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "recording": self.recording,
            "action": self.action,
            "detail": self.detail,
            **self.extra,
        }


@dataclass
class _Item:
    role: str  # "original" or "derivative"
    row: Original | Derivative
    remove_bytes: bool

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "role": self.role,
            "sha256": self.row.sha256,
            "size": self.row.size,
            "bytes_removed": self.remove_bytes,
        }
        if isinstance(self.row, Derivative):
            out.update(kind=self.row.kind, original=self.row.original_id)
        else:
            out.update(
                id=self.row.pk,
                filename=self.row.filename,
                started_at=iso(self.row.started_at),
                stopped_at=iso(self.row.stopped_at),
                ingested_at=iso(self.row.ingested_at),
            )
        return out


def _shared(sha256: str, row: Original | Derivative) -> bool:
    """Whether another catalogue row still needs these bytes (identical content)."""
    other_originals = Original.objects.filter(sha256=sha256)
    other_derivatives = Derivative.objects.filter(sha256=sha256)
    if isinstance(row, Original):
        other_originals = other_originals.exclude(pk=row.pk)
    else:
        other_derivatives = other_derivatives.exclude(pk=row.pk)
    return other_originals.exists() or other_derivatives.exists()


def _plan(rec: Recording) -> list[_Item]:
    """Each original's derivatives, then the original itself."""
    items: list[_Item] = []
    for original in rec.originals.order_by("pk"):
        for derivative in original.derivatives.order_by("pk"):
            items.append(_Item("derivative", derivative, True))
        items.append(_Item("original", original, True))
    return items


def _lock_check(items: list[_Item], store: EvidenceStore) -> tuple[bool, datetime | None, str]:
    """(locked, until, why) for the bytes this purge would remove."""
    latest: datetime | None = None
    for item in items:
        if not item.remove_bytes:
            continue
        try:
            until = store.lock_until(item.row.sha256)
        except ObjectLocked as exc:
            return True, exc.retain_until, str(exc)
        if until is not None and (latest is None or until > latest):
            latest = until
    if latest is None:
        return False, None, ""
    return True, latest, f"the store's Object Lock keeps its objects until {latest.isoformat()}"


def purge(
    disposal_id: int,
    *,
    as_of: datetime,
    actor: Actor = JOB_ACTOR,
    store: EvidenceStore | None = None,
    observer: Observer | None = None,
) -> Outcome:
    """Remove a recycled recording's bytes, issue its certificate, leave its tombstone."""
    store = store or get_store()
    recording_id = (
        Disposal.objects.filter(pk=disposal_id).values_list("recording_id", flat=True).first()
    )
    if recording_id is None:
        return Outcome(0, "skipped", f"disposal {disposal_id} has no recording")
    with transaction.atomic():
        # Always the recording first, then the disposal: the order set_hold() locks them in.
        rec = locked_recording(recording_id)
        disposal = Disposal.objects.select_for_update().get(pk=disposal_id)
        if not disposal.open or disposal.purge_after > as_of:
            return Outcome(rec.pk, "skipped", f"disposal {disposal.pk} is {disposal.status}")
        holds = active_holds(rec)
        if holds:
            kinds = ", ".join(sorted({HOLD_KINDS[h.kind] for h in holds}))
            if disposal.status == Disposal.Status.RECYCLED and not missing_objects(rec, store):
                recover_whole(rec, disposal, actor, f"held ({kinds})", store)
                return Outcome(rec.pk, "recovered", f"held: {kinds}")
            return Outcome(rec.pk, "held", f"purge stopped by a hold ({kinds})")
        if disposal.basis == Disposal.Basis.POLICY and disposal.status == Disposal.Status.RECYCLED:
            ret = retention_of(rec.pk, as_of)
            if not (ret.due(as_of) and ret.at_expiry == DELETE):
                recover_whole(rec, disposal, actor, f"no longer due: {ret.explain()}", store)
                return Outcome(rec.pk, "recovered", f"no longer due: {ret.explain()}")
        blocked_by = blockers(rec)
        if blocked_by:
            disposal.last_error = "still referenced by " + ", ".join(blocked_by)
            disposal.save(update_fields=["last_error"])
            return Outcome(rec.pk, "blocked", disposal.last_error)
        items = _plan(rec)
        for item in items:
            item.remove_bytes = not _shared(item.row.sha256, item.row)
        locked, until, why = _lock_check(items, store)
        if locked:
            return _defer(rec, disposal, until, why)
        return _remove(rec, disposal, items, actor, store, observer)


def _defer(rec: Recording, disposal: Disposal, until: datetime | None, why: str) -> Outcome:
    disposal.lock_until = until
    disposal.last_error = why
    if until is not None and until > disposal.purge_after:
        disposal.purge_after = until  # reconciled: retry once the store's lock ends
    disposal.save(update_fields=["lock_until", "last_error", "purge_after"])
    return Outcome(rec.pk, "deferred", why, {"lock_until": iso(until)})


def _remove(
    rec: Recording,
    disposal: Disposal,
    items: list[_Item],
    actor: Actor,
    store: EvidenceStore,
    observer: Observer | None,
) -> Outcome:
    now = clock.now()
    number = disposal.certificate_number
    disposal.status = Disposal.Status.PURGING
    disposal.purge_started_at = disposal.purge_started_at or now
    disposal.attempts += 1
    if observer is not None:
        observer("purging", {"recording": rec.pk, "disposal": disposal.pk})
    done: list[dict[str, Any]] = list(disposal.purged_objects)
    batch: list[dict[str, Any]] = []  # this original's derivatives, for its custody entry
    try:
        for item in items:
            if item.remove_bytes:
                store.purge(item.row.sha256)
            entry = item.to_json()
            cleared = clear_refs(type(item.row), item.row)
            if cleared:
                entry["references_cleared"] = cleared
            item.row.delete()
            done.append(entry)
            disposal.purged_objects = done
            if item.role == "derivative":
                batch.append(entry)
                continue
            record(
                "purge",
                actor,
                Subject(entry["sha256"], {"original": entry["id"], "recording": rec.pk}),
                justification=disposal.decided_by,
                details={
                    "stage": "object",
                    "certificate": number,
                    "disposal": disposal.pk,
                    "original": entry,
                    "derivatives": batch,
                },
                at=clock.now(),
            )
            batch = []
            if observer is not None:
                observer("purged-original", {"recording": rec.pk, "sha256": entry["sha256"]})
    except StoreError as exc:
        # Keep what was removed, in the catalogue as in the store; the next run goes on.
        if batch:  # derivatives removed before the failure: on their original's record
            original = Original.objects.get(pk=batch[0]["original"])
            record(
                "purge",
                actor,
                Subject(original.sha256, {"original": original.pk, "recording": rec.pk}),
                justification=disposal.decided_by,
                details={
                    "stage": "derivatives",
                    "certificate": number,
                    "disposal": disposal.pk,
                    "derivatives": batch,
                    "stopped_by": str(exc),
                },
                at=clock.now(),
            )
        disposal.last_error = str(exc)
        if isinstance(exc, ObjectLocked):
            disposal.lock_until = exc.retain_until
            if exc.retain_until is not None and exc.retain_until > disposal.purge_after:
                disposal.purge_after = exc.retain_until
        disposal.save()
        log.warning("purge of recording %s stopped part-way: %s", rec.pk, exc)
        return Outcome(
            rec.pk,
            "failed",
            str(exc),
            {"objects_removed": len(done), "certificate": number},
        )
    return _complete(rec, disposal, done, actor, store)


def _complete(
    rec: Recording,
    disposal: Disposal,
    objects: list[dict[str, Any]],
    actor: Actor,
    store: EvidenceStore,
) -> Outcome:
    now = clock.now()
    number = disposal.certificate_number
    cleared = clear_refs(Recording, rec)
    body = certificate_body(rec, disposal, objects, actor, now, store)
    if cleared:
        body["what"]["references_cleared"] = cleared
    text = canonical_json(body).decode("utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    cert = DeletionCertificate.objects.create(
        number=number,
        disposal=disposal,
        recording_ref=rec.pk,
        issued_at=now,
        body=text,
        sha256=digest,
    )
    entry = record(
        "purge",
        actor,
        Subject("", {"recording": rec.pk, "certificate": number}),
        justification=disposal.decided_by,
        details={"stage": "certificate", "certificate": body, "certificate_sha256": digest},
        at=now,
    )
    cert.custody_index = entry.index
    cert.save(update_fields=["custody_index"])
    manifest = disposal.manifest
    Tombstone.objects.create(
        recording_ref=rec.pk,
        officer_number=rec.officer.number,
        device_serial=rec.device.serial,
        trigger_on_at=rec.trigger_on_at,
        trigger_off_at=rec.trigger_off_at,
        incident_reference=rec.incident.reference if rec.incident else "",
        categories=category_names(rec) or manifest.get("categories", []),
        contents=[
            {k: o[k] for k in ("role", "sha256", "size", "bytes_removed") if k in o}
            for o in objects
        ],
        deleted_at=now,
        certificate=cert,
    )
    DeletionRequest.objects.filter(recording=rec, status=DeletionRequest.Status.PENDING).update(
        status=DeletionRequest.Status.REFUSED,
        decision_reason=f"superseded: deleted under certificate {number}",
        decided_at=now,
    )
    Hold.objects.filter(recording=rec).update(recording=None)  # all released (checked above)
    DeletionRequest.objects.filter(recording=rec).update(recording=None)
    Disposal.objects.filter(recording=rec).exclude(pk=disposal.pk).update(recording=None)
    disposal.recording = None
    disposal.status = Disposal.Status.PURGED
    disposal.purged_at = now
    disposal.purged_objects = objects
    disposal.last_error = ""
    disposal.save()
    rec.delete()
    return Outcome(
        disposal.recording_ref,
        "purged",
        f"certificate {number}",
        {
            "certificate": number,
            "objects": len(objects),
            "bytes": sum(o["size"] for o in objects if o.get("bytes_removed")),
        },
    )


def would_purge(
    disposal_id: int, recording_id: int, as_of: datetime, store: EvidenceStore
) -> Outcome:
    """What purge() would do now, for a dry run; it changes nothing."""
    rec = Recording.objects.filter(pk=recording_id).first()
    if rec is None:
        return Outcome(recording_id, "skipped", "no recording")
    if active_holds(rec):
        return Outcome(recording_id, "would-recover", "held")
    items = _plan(rec)
    try:
        locked, until, why = _lock_check(
            [i for i in items if not _shared(i.row.sha256, i.row)], store
        )
    except StoreError as exc:
        return Outcome(recording_id, "would-fail", str(exc))
    if locked:
        return Outcome(recording_id, "would-defer", why, {"lock_until": iso(until)})
    return Outcome(
        recording_id,
        "would-purge",
        f"disposal {disposal_id}",
        {"objects": len(items), "bytes": sum(i.row.size for i in items)},
    )
