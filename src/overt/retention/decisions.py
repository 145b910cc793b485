"""What people decide about a recording's retention: its categories, trigger events
(case closed, conviction, ...), review decisions to keep it, and recovery by hand.

A decision that lengthens retention brings a recycled recording back (reconsider).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from overt.custody.services import Actor
from overt.evidence.models import Category
from overt.evidence.store import EvidenceStore

from . import clock
from .common import (
    NotFound,
    Refused,
    category_names,
    iso,
    locked_recording,
    log_action,
    open_disposal,
)
from .disposal import reconsider, recover_whole
from .facts import retention_of
from .models import Disposal, ReviewDecision, TriggerEvent
from .rules import DELETE, TRIGGER_KINDS


def categorize(
    recording_id: int,
    category: str,
    *,
    actor: Actor,
    remove: bool = False,
    reason: str = "",
    store: EvidenceStore | None = None,
) -> dict[str, Any]:
    """Add (or remove) a category; a recycled recording no longer due comes back."""
    with transaction.atomic():
        rec = locked_recording(recording_id)
        cat = Category.objects.filter(name=category).first()
        if cat is None:
            known = ", ".join(Category.objects.values_list("name", flat=True)) or "none yet"
            raise NotFound(f"unknown category {category!r} (known: {known})")
        before = category_names(rec)
        if remove:
            rec.categories.remove(cat)
        else:
            rec.categories.add(cat)
        after = category_names(rec)
        changed = before != after
        if changed:
            log_action(
                "category-change",
                actor,
                rec,
                justification=reason,
                details={"recording": rec.pk, "before": before, "after": after},
            )
        recovered = reconsider(rec, actor, store)
    return {"recording": rec.pk, "categories": after, "changed": changed, "recovered": recovered}


def add_trigger(
    recording_id: int,
    kind: str,
    *,
    occurred_at: datetime,
    reason: str,
    actor: Actor,
    store: EvidenceStore | None = None,
) -> TriggerEvent:
    """Record a dated event (case closed, conviction, ...) that can start a retention clock."""
    if kind not in TRIGGER_KINDS:
        raise NotFound(f"unknown trigger {kind!r} (one of {', '.join(TRIGGER_KINDS)})")
    with transaction.atomic():
        rec = locked_recording(recording_id)
        event = TriggerEvent.objects.create(
            recording=rec,
            kind=kind,
            occurred_at=occurred_at,
            reason=reason,
            recorded_by=str(actor),
            recorded_at=clock.now(),
        )
        log_action(
            "metadata-change",
            actor,
            rec,
            justification=reason,
            details={"recording": rec.pk, "retention_trigger": kind, "at": iso(occurred_at)},
        )
        reconsider(rec, actor, store)
    return event


def keep_until(
    recording_id: int,
    until: datetime,
    *,
    reason: str,
    actor: Actor,
    store: EvidenceStore | None = None,
) -> ReviewDecision:
    """A review's decision to keep the footage until a date (when it is reviewed again)."""
    if not reason.strip():
        raise Refused("a review decision needs a reason")
    if until <= clock.now():
        raise Refused(f"keep-until {until.date().isoformat()} is not in the future")
    with transaction.atomic():
        rec = locked_recording(recording_id)
        decision = ReviewDecision.objects.create(
            recording=rec,
            keep_until=until,
            reason=reason,
            reviewed_by=str(actor),
            reviewed_at=clock.now(),
        )
        log_action(
            "metadata-change",
            actor,
            rec,
            justification=reason,
            details={"recording": rec.pk, "retention_review": "keep", "keep_until": iso(until)},
        )
        reconsider(rec, actor, store)
    return decision


def recover(
    recording_id: int,
    *,
    reason: str,
    actor: Actor,
    keep_until_date: datetime | None = None,
    store: EvidenceStore | None = None,
) -> Disposal:
    """Bring a recording back from the recycle bin, whole.

    It must then no longer be due, or the next run would recycle it again: categorise it,
    hold it, or give a keep-until date (recorded as a review decision).
    """
    if not reason.strip():
        raise Refused("a recovery needs a reason")
    with transaction.atomic():
        rec = locked_recording(recording_id)
        disposal = open_disposal(rec)
        if disposal is None:
            raise Refused(f"recording {rec.pk} is not in the recycle bin")
        if disposal.status != Disposal.Status.RECYCLED:
            raise Refused(
                f"recording {rec.pk}'s purge has already removed "
                f"{len(disposal.purged_objects)} object(s); it cannot come back whole"
            )
        if keep_until_date is not None:
            keep_until(rec.pk, keep_until_date, reason=reason, actor=actor, store=store)
            disposal.refresh_from_db()
            if disposal.status == Disposal.Status.RECOVERED:
                return disposal
        now = clock.now()
        ret = retention_of(rec.pk, now)
        if disposal.basis == Disposal.Basis.POLICY and ret.due(now) and ret.at_expiry == DELETE:
            raise Refused(
                f"recording {rec.pk} would be due again at once ({ret.explain()}); categorise "
                "it, hold it, or give --keep-until DATE"
            )
        recover_whole(rec, disposal, actor, reason, store)
    return disposal
