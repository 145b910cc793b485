"""The retention stage's actions: categorise, hold, trigger, review, recycle, recover,
purge, early deletion, and the daily run that ties them together.

Safety rules every function here keeps:

- A hold beats everything. Each action that could remove evidence locks the recording
  row (on SQLite the database write lock, taken at BEGIN IMMEDIATE) and re-checks holds
  under that lock, in the same transaction as its effect. A hold that commits before a
  purge takes the lock always wins; one that arrives while the bytes are being removed
  waits for the lock and is then refused, naming the deletion certificate.
- Nothing is removed for space, and nothing is removed early: due dates come from
  overt.retention.rules, re-evaluated under the lock, and a real run refuses an as-of
  date in the future.
- Every action is a custody log entry written in the action's own transaction.
- A purge that fails part-way (an S3 error, an Object Lock, a disk error) commits what it
  did remove, catalogue and store alike, and the next run finishes it.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.db.models.deletion import PROTECT, RESTRICT

from overt.conf import get_settings, mask_url
from overt.custody.canonical import canonical_json
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Category, Derivative, Original, Recording
from overt.evidence.store import EvidenceStore, ObjectLocked, StoreError, get_store

from . import clock
from .models import (
    CategoryPolicy,
    DeletionCertificate,
    DeletionRequest,
    Disposal,
    Hold,
    RetentionPolicy,
    ReviewDecision,
    Tombstone,
    TriggerEvent,
)
from .rules import (
    DELETE,
    HOLD_KINDS,
    RECORDED,
    REVIEW,
    TRIGGER_KINDS,
    Facts,
    HoldFact,
    Period,
    Retention,
    Rule,
    effective_retention,
)

log = logging.getLogger(__name__)

CERTIFICATE_SCHEMA = "overt.deletion-certificate/1"
OPEN = (Disposal.Status.RECYCLED, Disposal.Status.PURGING)
JOB_ACTOR = Actor.system("retention")
APPROVE_PERMISSION = "retention.approve_deletion"

Observer = Callable[[str, dict[str, Any]], None]


class RetentionError(Exception):
    """The retention action was refused or failed; the message says why."""


class NotFound(RetentionError):
    """No such recording, category, hold or request."""


class Refused(RetentionError):
    """The rules forbid the action (a hold, the two-person rule, a future date, ...)."""


# --- settings and facts ----------------------------------------------------------------


def default_rule() -> Rule:
    settings = get_settings()
    return Rule(
        "uncategorised default",
        Period(days=settings.retention_uncategorised_days),
        RECORDED,
        settings.retention_uncategorised_action,
    )


def recycle_window() -> timedelta:
    return timedelta(days=get_settings().retention_recycle_days)


def live_recordings() -> Any:
    """Recordings still in the catalogue and not in the recycle bin."""
    return Recording.objects.exclude(disposals__status__in=OPEN)


def load_facts(recordings: Any, as_of: datetime) -> dict[int, Facts]:
    """The rules' facts for every recording in the queryset, in a handful of queries."""
    recorded = dict(recordings.values_list("pk", "trigger_on_at"))
    if not recorded:
        return {}
    small = len(recorded) <= 500
    ids = list(recorded)

    def scoped(qs: Any, field_name: str = "recording_id") -> Any:
        return qs.filter(**{f"{field_name}__in": ids}) if small else qs

    rules = {p.pk: p.rule() for p in RetentionPolicy.objects.all()}
    policy_of = dict(CategoryPolicy.objects.values_list("category_id", "policy_id"))
    categories: dict[int, list[tuple[str, Rule | None]]] = defaultdict(list)
    through = Recording.categories.through.objects
    for rec_id, cat_id, name in scoped(through).values_list(
        "recording_id", "category_id", "category__name"
    ):
        if rec_id in recorded:
            policy_id = policy_of.get(cat_id)
            categories[rec_id].append((name, rules.get(policy_id) if policy_id else None))
    triggers: dict[int, dict[str, datetime]] = defaultdict(dict)
    for rec_id, kind, at in scoped(TriggerEvent.objects.filter(occurred_at__lte=as_of)).values_list(
        "recording_id", "kind", "occurred_at"
    ):
        if rec_id in recorded and (kind not in triggers[rec_id] or at > triggers[rec_id][kind]):
            triggers[rec_id][kind] = at
    holds: dict[int, list[HoldFact]] = defaultdict(list)
    active = Hold.objects.filter(Q(released_at__isnull=True) | Q(released_at__gt=as_of))
    for rec_id, kind, released in scoped(active.filter(recording__isnull=False)).values_list(
        "recording_id", "kind", "released_at"
    ):
        if rec_id in recorded:
            holds[rec_id].append(HoldFact(kind, released))
    procedures = _procedures(as_of)
    if procedures:
        for rec_id, incident_id in recordings.filter(incident_id__in=list(procedures)).values_list(
            "pk", "incident_id"
        ):
            holds[rec_id].append(HoldFact("post-incident", procedures[incident_id]))
    keep: dict[int, datetime] = {}
    for rec_id, until in scoped(ReviewDecision.objects.all()).values_list(
        "recording_id", "keep_until"
    ):
        if rec_id in recorded and (rec_id not in keep or until > keep[rec_id]):
            keep[rec_id] = until
    return {
        rec_id: Facts(
            recorded_at=at,
            categories=tuple(sorted(categories.get(rec_id, ()), key=lambda c: c[0])),
            triggers=triggers.get(rec_id, {}),
            holds=tuple(holds.get(rec_id, ())),
            keep_until=keep.get(rec_id),
        )
        for rec_id, at in recorded.items()
    }


def retention_of(recording_id: int, as_of: datetime | None = None) -> Retention:
    as_of = as_of or clock.now()
    facts = load_facts(Recording.objects.filter(pk=recording_id), as_of)
    if recording_id not in facts:
        raise NotFound(f"no recording {recording_id}")
    return effective_retention(facts[recording_id], as_of=as_of, default=default_rule())


def retentions(recordings: Any, as_of: datetime) -> dict[int, Retention]:
    default = default_rule()
    return {
        rec_id: effective_retention(f, as_of=as_of, default=default)
        for rec_id, f in load_facts(recordings, as_of).items()
    }


# --- helpers -----------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _locked_recording(recording_id: int) -> Recording:
    """The recording, locked for this transaction; a clear error if it is gone."""
    rec = (
        Recording.objects.select_for_update(of=("self",))
        .select_related("officer", "device", "incident")
        .filter(pk=recording_id)
        .first()
    )
    if rec is not None:
        return rec
    tomb = Tombstone.objects.select_related("certificate").filter(recording_ref=recording_id)
    tomb = tomb.first()
    if tomb is not None:
        raise Refused(
            f"recording {recording_id} was deleted on {tomb.deleted_at.date().isoformat()} under "
            f"deletion certificate {tomb.certificate.number}; nothing of it is left to act on"
        )
    raise NotFound(f"no recording {recording_id}")


def _open_disposal(rec: Recording) -> Disposal | None:
    return Disposal.objects.select_for_update().filter(recording=rec, status__in=OPEN).first()


def _subjects(rec: Recording) -> list[Subject]:
    """One custody subject per original, so each original's history shows the action."""
    subjects = [
        Subject(sha, {"original": pk, "recording": rec.pk})
        for pk, sha in rec.originals.order_by("pk").values_list("pk", "sha256")
    ]
    return subjects or [Subject("", {"recording": rec.pk})]


def _log(
    action: str, actor: Actor, rec: Recording, *, justification: str = "", details: dict
) -> None:
    now = clock.now()
    for subject in _subjects(rec):
        record(action, actor, subject, justification=justification, details=details, at=now)


def _active_holds(rec: Recording) -> list[Hold | HoldFact]:
    """The recording's unreleased holds, and its incident's open post-incident procedure."""
    holds: list[Hold | HoldFact] = list(
        Hold.objects.filter(recording=rec, released_at__isnull=True)
    )
    if rec.incident_id is not None and rec.incident_id in _procedures(None):
        holds.append(HoldFact("post-incident"))
    return holds


def _procedures(as_of: datetime | None) -> dict[int, datetime | None]:
    """Incidents under a post-incident procedure (overt.access) that is not released, or
    was released only after `as_of`: {incident id: released at}. They hold their footage."""
    if not apps.is_installed("overt.access"):
        return {}
    procedure = apps.get_model("access", "PostIncidentProcedure")
    unreleased = Q(released_at__isnull=True)
    if as_of is not None:
        unreleased |= Q(released_at__gt=as_of)
    return dict(procedure.objects.filter(unreleased).values_list("incident_id", "released_at"))


def _categories(rec: Recording) -> list[str]:
    return sorted(rec.categories.values_list("name", flat=True))


# --- categories, triggers, reviews -----------------------------------------------------


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
        rec = _locked_recording(recording_id)
        cat = Category.objects.filter(name=category).first()
        if cat is None:
            known = ", ".join(Category.objects.values_list("name", flat=True)) or "none yet"
            raise NotFound(f"unknown category {category!r} (known: {known})")
        before = _categories(rec)
        if remove:
            rec.categories.remove(cat)
        else:
            rec.categories.add(cat)
        after = _categories(rec)
        changed = before != after
        if changed:
            _log(
                "category-change",
                actor,
                rec,
                justification=reason,
                details={"recording": rec.pk, "before": before, "after": after},
            )
        recovered = _reconsider(rec, actor, store)
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
        rec = _locked_recording(recording_id)
        event = TriggerEvent.objects.create(
            recording=rec,
            kind=kind,
            occurred_at=occurred_at,
            reason=reason,
            recorded_by=str(actor),
            recorded_at=clock.now(),
        )
        _log(
            "metadata-change",
            actor,
            rec,
            justification=reason,
            details={"recording": rec.pk, "retention_trigger": kind, "at": _iso(occurred_at)},
        )
        _reconsider(rec, actor, store)
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
        rec = _locked_recording(recording_id)
        decision = ReviewDecision.objects.create(
            recording=rec,
            keep_until=until,
            reason=reason,
            reviewed_by=str(actor),
            reviewed_at=clock.now(),
        )
        _log(
            "metadata-change",
            actor,
            rec,
            justification=reason,
            details={"recording": rec.pk, "retention_review": "keep", "keep_until": _iso(until)},
        )
        _reconsider(rec, actor, store)
    return decision


def _reconsider(rec: Recording, actor: Actor, store: EvidenceStore | None) -> bool:
    """After a change that can lengthen retention: bring back a recycled recording that is
    no longer due. Early deletions (two-person) are not undone this way."""
    disposal = _open_disposal(rec)
    if disposal is None or disposal.basis != Disposal.Basis.POLICY:
        return False
    if disposal.status != Disposal.Status.RECYCLED:
        return False
    now = clock.now()
    ret = retention_of(rec.pk, now)
    if ret.due(now) and ret.at_expiry == DELETE:
        return False
    _recover(rec, disposal, actor, f"no longer due: {ret.explain()}", store)
    return True


# --- holds ---------------------------------------------------------------------------------


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
        rec = _locked_recording(recording_id)
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
        _log(
            "hold-set",
            actor,
            rec,
            justification=reason,
            details={"recording": rec.pk, "hold": hold.pk, "kind": kind, "reference": reference},
        )
        result = HoldResult(hold)
        disposal = _open_disposal(rec)
        if disposal is not None and disposal.status == Disposal.Status.RECYCLED:
            missing = _missing_objects(rec, store or get_store())
            if missing:
                result.note = (
                    f"{len(missing)} object(s) were already removed by an interrupted purge; "
                    "the rest is kept under the hold"
                )
            else:
                _recover(rec, disposal, actor, f"{HOLD_KINDS[kind]} set: {reason}", store)
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
        rec = _locked_recording(recording_id)
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
        _log(
            "hold-release",
            actor,
            rec,
            justification=reason,
            details={"recording": rec.pk, "hold": hold.pk, "kind": hold.kind},
        )
    return hold


# --- recycle and recover ---------------------------------------------------------------


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
        "trigger_on_at": _iso(rec.trigger_on_at),
        "trigger_off_at": _iso(rec.trigger_off_at),
        "categories": _categories(rec),
        "originals": [
            {
                "id": o.pk,
                "sha256": o.sha256,
                "size": o.size,
                "filename": o.filename,
                "started_at": _iso(o.started_at),
                "stopped_at": _iso(o.stopped_at),
                "ingested_at": _iso(o.ingested_at),
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
        rec = _locked_recording(recording_id)
        if _open_disposal(rec) is not None or _active_holds(rec):
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
        _log(
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
                "due_at": _iso(disposal.due_at),
                "recoverable_until": _iso(disposal.purge_after),
            },
        )
    return disposal


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
        rec = _locked_recording(recording_id)
        disposal = _open_disposal(rec)
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
        _recover(rec, disposal, actor, reason, store)
    return disposal


def _missing_objects(rec: Recording, store: EvidenceStore) -> list[str]:
    hashes = list(rec.originals.values_list("sha256", flat=True))
    hashes += Derivative.objects.filter(original__recording=rec).values_list("sha256", flat=True)
    return [h for h in hashes if not store.exists(h)]


def _recover(
    rec: Recording,
    disposal: Disposal,
    actor: Actor,
    reason: str,
    store: EvidenceStore | None,
) -> None:
    if disposal.status != Disposal.Status.RECYCLED:
        raise Refused(
            f"recording {rec.pk}'s purge has already removed {len(disposal.purged_objects)} "
            "object(s); it cannot come back whole"
        )
    missing = _missing_objects(rec, store or get_store())
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
    _log(
        "metadata-change",
        actor,
        rec,
        justification=reason,
        details={"change": "recovered-from-recycle", "recording": rec.pk, "disposal": disposal.pk},
    )


# --- purge ---------------------------------------------------------------------------------

_OURS: set[type] = {
    Original,
    Derivative,
    Hold,
    Disposal,
    DeletionRequest,
    TriggerEvent,
    ReviewDecision,
}


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
                started_at=_iso(self.row.started_at),
                stopped_at=_iso(self.row.stopped_at),
                ingested_at=_iso(self.row.ingested_at),
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


def _outside_refs(model: type, objs: list[Any]) -> list[tuple[type, str, bool, list[Any]]]:
    """Rows of other apps that point at `objs` and would stop their deletion (PROTECT or
    RESTRICT): (model, field, nullable, pks). CASCADE and SET_NULL ones need nothing."""
    found = []
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.related_model in _OURS:
            continue
        if rel.on_delete not in (PROTECT, RESTRICT):
            continue
        field_name = rel.field.name
        pks = list(
            rel.related_model._base_manager.filter(**{f"{field_name}__in": objs}).values_list(
                "pk", flat=True
            )
        )
        if pks:
            found.append((rel.related_model, field_name, rel.field.null, pks))
    return found


def _blockers(rec: Recording) -> list[str]:
    """Rows elsewhere that must not lose what they point at (a PROTECT that cannot be
    cleared): the purge waits, naming them, rather than remove bytes it cannot un-catalogue."""
    originals = list(rec.originals.all())
    derivatives = list(Derivative.objects.filter(original__recording=rec))
    blockers = []
    for model, objs in ((Recording, [rec]), (Original, originals), (Derivative, derivatives)):
        if not objs:
            continue
        for other, field_name, nullable, pks in _outside_refs(model, objs):
            if not nullable:
                blockers += [f"{other._meta.label} {pk} ({field_name})" for pk in pks]
    return sorted(blockers)


def _clear_refs(model: type, obj: Any) -> list[str]:
    """Unlink nullable PROTECT references to a row about to go (e.g. an upload's record of
    the original it made); returns what was cleared, for the certificate."""
    cleared = []
    for other, field_name, _, pks in _outside_refs(model, [obj]):
        other._base_manager.filter(pk__in=pks).update(**{field_name: None})
        cleared += [f"{other._meta.label} {pk} ({field_name})" for pk in pks]
    return cleared


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
        rec = _locked_recording(recording_id)
        disposal = Disposal.objects.select_for_update().get(pk=disposal_id)
        if not disposal.open or disposal.purge_after > as_of:
            return Outcome(rec.pk, "skipped", f"disposal {disposal.pk} is {disposal.status}")
        holds = _active_holds(rec)
        if holds:
            kinds = ", ".join(sorted({HOLD_KINDS[h.kind] for h in holds}))
            if disposal.status == Disposal.Status.RECYCLED and not _missing_objects(rec, store):
                _recover(rec, disposal, actor, f"held ({kinds})", store)
                return Outcome(rec.pk, "recovered", f"held: {kinds}")
            return Outcome(rec.pk, "held", f"purge stopped by a hold ({kinds})")
        if disposal.basis == Disposal.Basis.POLICY and disposal.status == Disposal.Status.RECYCLED:
            ret = retention_of(rec.pk, as_of)
            if not (ret.due(as_of) and ret.at_expiry == DELETE):
                _recover(rec, disposal, actor, f"no longer due: {ret.explain()}", store)
                return Outcome(rec.pk, "recovered", f"no longer due: {ret.explain()}")
        blockers = _blockers(rec)
        if blockers:
            disposal.last_error = "still referenced by " + ", ".join(blockers)
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
    return Outcome(rec.pk, "deferred", why, {"lock_until": _iso(until)})


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
            cleared = _clear_refs(type(item.row), item.row)
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
    cleared = _clear_refs(Recording, rec)
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
        categories=_categories(rec) or manifest.get("categories", []),
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


def certificate_body(
    rec: Recording,
    disposal: Disposal,
    objects: list[dict[str, Any]],
    actor: Actor,
    now: datetime,
    store: EvidenceStore,
) -> dict[str, Any]:
    manifest = disposal.manifest
    why: dict[str, Any] = {
        "basis": disposal.basis,
        "decided_by": disposal.decided_by,
        "policy": disposal.policy,
        "due_at": _iso(disposal.due_at),
    }
    if disposal.policy:
        policy = RetentionPolicy.objects.filter(name=disposal.policy).first()
        if policy is not None:
            why["policy_rule"] = policy.rule().describe()
    if disposal.request is not None:
        request = disposal.request
        why["request"] = {
            "id": request.pk,
            "requested_by": request.requested_by.get_username(),
            "reason": request.reason,
            "requested_at": _iso(request.requested_at),
            "approved_by": request.decided_by.get_username() if request.decided_by else None,
            "approval_reason": request.decision_reason,
            "approved_at": _iso(request.decided_at),
        }
    released = [
        {
            "kind": h.kind,
            "reference": h.reference,
            "set_at": _iso(h.set_at),
            "released_at": _iso(h.released_at),
            "release_reason": h.release_reason,
        }
        for h in Hold.objects.filter(recording=rec).order_by("set_at")
    ]
    return {
        "schema": CERTIFICATE_SCHEMA,
        "certificate": disposal.certificate_number,
        "issued_at": _iso(now),
        "what": {
            "recording": rec.pk,
            "officer": manifest.get("officer", {"number": rec.officer.number}),
            "device": manifest.get("device", {"serial": rec.device.serial}),
            "incident": rec.incident.reference if rec.incident else "",
            "trigger_on_at": _iso(rec.trigger_on_at),
            "trigger_off_at": _iso(rec.trigger_off_at),
            "categories": _categories(rec),
            "objects": objects,
            "total_bytes": sum(o["size"] for o in objects if o.get("bytes_removed")),
        },
        "why": why,
        "holds_released_before": released,
        "who": {"recycled_by": disposal.recycled_by, "purged_by": str(actor)},
        "when": {
            "recycled_at": _iso(disposal.recycled_at),
            "recoverable_until": _iso(disposal.purge_after),
            "purge_started_at": _iso(disposal.purge_started_at),
            "purged_at": _iso(now),
            "attempts": disposal.attempts,
        },
        "store": mask_url(store.url),
    }


# --- early deletion (two people) -----------------------------------------------------------


def may_delete_early(user: AbstractBaseUser) -> bool:
    """The permission retention.approve_deletion, or a role with manage-retention."""
    if not user.is_active:
        return False
    if user.has_perm(APPROVE_PERMISSION):
        return True
    from overt.access.matrix import Capability
    from overt.access.services import capability

    return capability(user, Capability.MANAGE_RETENTION)  # type: ignore[arg-type]


def _authorised(user: AbstractBaseUser, what: str) -> None:
    if not may_delete_early(user):
        raise Refused(
            f"{user.get_username()} may not {what}: it needs the permission "
            f"{APPROVE_PERMISSION} (or a role with manage-retention)"
        )


def _user_actor(user: AbstractBaseUser) -> Actor:
    return Actor("user", user.get_username())


def request_deletion(recording_id: int, *, user: AbstractBaseUser, reason: str) -> DeletionRequest:
    """The first of the two people: ask for a recording to be deleted before it is due."""
    _authorised(user, "request early deletion")
    if not reason.strip():
        raise Refused("an early deletion request needs a reason")
    with transaction.atomic():
        rec = _locked_recording(recording_id)
        holds = _active_holds(rec)
        if holds:
            raise Refused(
                f"recording {rec.pk} is held ({', '.join(HOLD_KINDS[h.kind] for h in holds)}); "
                "nothing held can be deleted"
            )
        if _open_disposal(rec) is not None:
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
        _log(
            "delete",
            _user_actor(user),
            rec,
            justification=reason,
            details={"stage": "requested", "recording": rec.pk, "request": request.pk},
        )
    return request


def decide_deletion(
    request_id: int, *, user: AbstractBaseUser, reason: str, approve: bool
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
        rec = _locked_recording(recording_id)
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
            holds = _active_holds(rec)
            if holds:
                raise Refused(
                    f"recording {rec.pk} is held "
                    f"({', '.join(HOLD_KINDS[h.kind] for h in holds)}); nothing held can be deleted"
                )
            request.status = DeletionRequest.Status.APPROVED
        else:
            request.status = DeletionRequest.Status.REFUSED
        request.save()
        _log(
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


# --- the daily run ---------------------------------------------------------------------------


@dataclass
class RunReport:
    as_of: datetime
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    review_due: list[dict[str, Any]] = field(default_factory=list)
    held: int = 0
    live: int = 0

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    def to_json(self) -> dict[str, Any]:
        actions = sorted({o.action for o in self.outcomes})
        return {
            "as_of": _iso(self.as_of),
            "dry_run": self.dry_run,
            "summary": {
                **{a: self.count(a) for a in actions},
                "review_due": len(self.review_due),
                "held": self.held,
                "live": self.live,
            },
            "actions": [o.to_json() for o in self.outcomes],
            "review_due": self.review_due,
        }


def run_retention(
    as_of: datetime | None = None,
    *,
    dry_run: bool = False,
    actor: Actor = JOB_ACTOR,
    store: EvidenceStore | None = None,
    observer: Observer | None = None,
) -> RunReport:
    """One pass of the daily job: purge what has served its recycle window, then recycle
    what has fallen due. With dry_run, say what would happen and change nothing."""
    now = clock.now()
    as_of = as_of or now
    if not dry_run and as_of > now:
        raise Refused(
            f"refusing to delete evidence as of {as_of.isoformat()}, which is in the future; "
            "use --dry-run for a what-if run"
        )
    store = store or get_store()
    report = RunReport(as_of, dry_run)

    due_disposals = list(
        Disposal.objects.filter(status__in=OPEN, purge_after__lte=as_of)
        .order_by("purge_after", "pk")
        .values_list("pk", "recording_ref")
    )
    if observer is not None:
        observer("purge-candidates", {"disposals": [pk for pk, _ in due_disposals]})
    for pk, recording_ref in due_disposals:
        if dry_run:
            report.outcomes.append(_would_purge(pk, recording_ref, as_of, store))
            continue
        try:
            report.outcomes.append(
                purge(pk, as_of=as_of, actor=actor, store=store, observer=observer)
            )
        except RetentionError as exc:
            report.outcomes.append(Outcome(recording_ref, "failed", str(exc)))

    found = retentions(live_recordings(), as_of)
    report.live = len(found)
    report.held = sum(1 for r in found.values() if r.held)
    candidates = sorted(
        rec_id for rec_id, r in found.items() if r.due(as_of) and r.at_expiry == DELETE
    )
    report.review_due = _review_rows(found, as_of)
    if observer is not None:
        observer("recycle-candidates", {"recordings": candidates})
    window = recycle_window()
    for rec_id in candidates:
        r = found[rec_id]
        if dry_run:
            report.outcomes.append(
                Outcome(
                    rec_id,
                    "would-recycle",
                    r.explain(),
                    {"due_at": _iso(r.due_at), "purge_after": _iso(now + window)},
                )
            )
            continue
        disposal = recycle(rec_id, as_of=as_of, actor=actor)
        if disposal is None:
            report.outcomes.append(Outcome(rec_id, "skipped", "not due under the lock"))
        else:
            report.outcomes.append(
                Outcome(
                    rec_id,
                    "recycled",
                    r.explain(),
                    {"due_at": _iso(r.due_at), "recoverable_until": _iso(disposal.purge_after)},
                )
            )
    return report


def _would_purge(
    disposal_id: int, recording_id: int, as_of: datetime, store: EvidenceStore
) -> Outcome:
    rec = Recording.objects.filter(pk=recording_id).first()
    if rec is None:
        return Outcome(recording_id, "skipped", "no recording")
    if _active_holds(rec):
        return Outcome(recording_id, "would-recover", "held")
    items = _plan(rec)
    try:
        locked, until, why = _lock_check(
            [i for i in items if not _shared(i.row.sha256, i.row)], store
        )
    except StoreError as exc:
        return Outcome(recording_id, "would-fail", str(exc))
    if locked:
        return Outcome(recording_id, "would-defer", why, {"lock_until": _iso(until)})
    return Outcome(
        recording_id,
        "would-purge",
        f"disposal {disposal_id}",
        {"objects": len(items), "bytes": sum(i.row.size for i in items)},
    )


# --- lists for people ---------------------------------------------------------------------


def _review_rows(found: dict[int, Retention], as_of: datetime) -> list[dict[str, Any]]:
    due = {k: r for k, r in found.items() if r.due(as_of) and r.at_expiry == REVIEW}
    rows = []
    recs = Recording.objects.filter(pk__in=list(due)).select_related("officer").order_by("pk")
    for rec in recs:
        r = due[rec.pk]
        rows.append(
            {
                "recording": rec.pk,
                "title": rec.title,
                "officer": rec.officer.number,
                "team": rec.officer.team,
                "recorded_at": _iso(rec.trigger_on_at),
                "due_at": _iso(r.due_at),
                "decided_by": r.decided_by,
            }
        )
    return rows


def review_due(as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Footage whose retention has ended under a 'review' policy: a person decides."""
    as_of = as_of or clock.now()
    return _review_rows(retentions(live_recordings(), as_of), as_of)


def upcoming(as_of: datetime | None = None, days: int = 30) -> list[dict[str, Any]]:
    """Deletions due within `days`: recordings that will be recycled, and recycled ones
    that will be purged. Sorted by date."""
    as_of = as_of or clock.now()
    until = as_of + timedelta(days=days)
    window = recycle_window()
    rows: list[dict[str, Any]] = []
    found = retentions(live_recordings(), as_of)
    due = {
        rec_id: r
        for rec_id, r in found.items()
        if not r.held and r.due_at is not None and r.due_at <= until
    }
    recs = Recording.objects.filter(pk__in=list(due)).select_related("officer", "device")
    for rec in recs:
        r = due[rec.pk]
        when = max(r.due_at, as_of)  # type: ignore[type-var]
        review = r.at_expiry == REVIEW
        rows.append(
            {
                "recording": rec.pk,
                "stage": "review" if review else "recycle",
                "date": _iso(when),
                "purge_after": None if review else _iso(when + window),
                "officer": rec.officer.number,
                "team": rec.officer.team,
                "device": rec.device.serial,
                "recorded_at": _iso(rec.trigger_on_at),
                "title": rec.title,
                "reason": r.explain(),
            }
        )
    for d in Disposal.objects.filter(status__in=OPEN, purge_after__lte=until).select_related(
        "recording__officer", "recording__device"
    ):
        rec = d.recording
        rows.append(
            {
                "recording": d.recording_ref,
                "stage": "purge",
                "date": _iso(max(d.purge_after, d.lock_until or d.purge_after)),
                "purge_after": _iso(d.purge_after),
                "officer": rec.officer.number if rec else "",
                "team": rec.officer.team if rec else "",
                "device": rec.device.serial if rec else "",
                "recorded_at": _iso(rec.trigger_on_at) if rec else None,
                "title": rec.title if rec else "",
                "reason": d.decided_by,
                "status": d.status,
                "last_error": d.last_error,
            }
        )
    rows.sort(key=lambda r: (r["date"], r["recording"]))
    return rows


def uncategorised(as_of: datetime | None = None) -> list[dict[str, Any]]:
    """The uncategorised worklist, per officer (with their team)."""
    as_of = as_of or clock.now()
    found = retentions(live_recordings().filter(categories__isnull=True), as_of)
    per: dict[tuple[str, str, str], list[tuple[int, Retention, datetime]]] = defaultdict(list)
    recs = Recording.objects.filter(pk__in=list(found)).select_related("officer")
    for rec in recs:
        key = (rec.officer.team, rec.officer.number, rec.officer.name)
        per[key].append((rec.pk, found[rec.pk], rec.trigger_on_at))
    out = []
    for (team, number, name), items in sorted(per.items()):
        dues = [r.due_at for _, r, _ in items if r.due_at is not None]
        out.append(
            {
                "team": team,
                "officer": number,
                "name": name,
                "count": len(items),
                "oldest": _iso(min(at for _, _, at in items)),
                "first_due": _iso(min(dues)) if dues else None,
                "recordings": sorted(pk for pk, _, _ in items),
            }
        )
    return out


def recording_rows(
    *,
    as_of: datetime | None = None,
    officer: str | None = None,
    team: str | None = None,
    only_uncategorised: bool = False,
    state: str = "all",
) -> list[dict[str, Any]]:
    """Recordings with their retention, for `overt recording list`."""
    as_of = as_of or clock.now()
    qs = Recording.objects.select_related("officer", "device").order_by("pk")
    if officer:
        qs = qs.filter(officer__number=officer)
    if team:
        qs = qs.filter(officer__team=team)
    if only_uncategorised:
        qs = qs.filter(categories__isnull=True)
    found = retentions(qs, as_of)
    disposals = {
        d.recording_id: d for d in Disposal.objects.filter(status__in=OPEN, recording__in=qs)
    }
    holds: dict[int, list[dict]] = defaultdict(list)
    for h in Hold.objects.filter(recording__in=qs, released_at__isnull=True):
        holds[h.recording_id].append({"id": h.pk, "kind": h.kind, "reason": h.reason})
    cats: dict[int, list[str]] = defaultdict(list)
    for rec_id, name in Recording.categories.through.objects.filter(recording__in=qs).values_list(
        "recording_id", "category__name"
    ):
        cats[rec_id].append(name)
    rows = []
    for rec in qs:
        r = found[rec.pk]
        d = disposals.get(rec.pk)
        current = d.status if d else ("held" if r.held else "live")
        if state not in ("all", current):
            continue
        rows.append(
            {
                "id": rec.pk,
                "title": rec.title,
                "officer": rec.officer.number,
                "team": rec.officer.team,
                "device": rec.device.serial,
                "trigger_on_at": _iso(rec.trigger_on_at),
                "categories": sorted(cats.get(rec.pk, [])),
                "state": current,
                "holds": holds.get(rec.pk, []),
                "due_at": _iso(r.due_at),
                "at_expiry": r.at_expiry,
                "retention": r.explain(),
                "recoverable_until": _iso(d.purge_after) if d else None,
            }
        )
    return rows


def set_policy(
    name: str,
    *,
    period: Period,
    starts_from: str,
    at_expiry: str,
    description: str = "",
    actor: Actor,
) -> RetentionPolicy:
    """Create or change a policy (a custody `config-change`)."""
    Rule(name, period, starts_from, at_expiry)  # validates
    with transaction.atomic():
        policy = RetentionPolicy.objects.select_for_update().filter(name=name).first()
        before = _policy_json(policy) if policy else None
        if policy is None:
            policy = RetentionPolicy(name=name)
        policy.years, policy.months, policy.days = period.astuple()
        policy.starts_from = starts_from
        policy.at_expiry = at_expiry
        if description:
            policy.description = description
        policy.save()
        record(
            "config-change",
            actor,
            Subject("", {"retention_policy": policy.pk}),
            details={"retention_policy": name, "before": before, "after": _policy_json(policy)},
            at=clock.now(),
        )
    return policy


def assign_policy(category: str, policy_name: str, *, actor: Actor) -> CategoryPolicy:
    """Put a category under a policy, creating the category if it is new."""
    with transaction.atomic():
        policy = RetentionPolicy.objects.filter(name=policy_name).first()
        if policy is None:
            known = ", ".join(RetentionPolicy.objects.values_list("name", flat=True))
            raise NotFound(f"unknown retention policy {policy_name!r} (known: {known})")
        cat, _ = Category.objects.get_or_create(name=category)
        link = CategoryPolicy.objects.select_for_update().filter(category=cat).first()
        before = link.policy.name if link else None
        if link is None:
            link = CategoryPolicy(category=cat)
        link.policy = policy
        link.assigned_at = clock.now()
        link.assigned_by = str(actor)
        link.save()
        record(
            "config-change",
            actor,
            Subject("", {"category": cat.pk}),
            details={"category": category, "policy_before": before, "policy_after": policy.name},
            at=clock.now(),
        )
    return link


def _policy_json(policy: RetentionPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "period": str(policy.period),
        "starts_from": policy.starts_from,
        "at_expiry": policy.at_expiry,
        "rule": policy.rule().describe(),
        "description": policy.description,
    }


def policies() -> list[dict[str, Any]]:
    out = []
    for policy in RetentionPolicy.objects.prefetch_related("links__category"):
        row = _policy_json(policy)
        row["categories"] = sorted(link.category.name for link in policy.links.all())
        out.append(row)
    return out


def categories_without_policy() -> list[str]:
    return list(
        Category.objects.filter(retention__isnull=True)
        .order_by("name")
        .values_list("name", flat=True)
    )
