"""Case items: recordings, clips, stills, redacted copies and documents joining a case,
leaving it, or being marked do-not-disclose. Each change is a `case-change` custody entry
on every original it concerns (overt.cases.services says who may change a case)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import IO, Any

from django.db import transaction
from django.utils import timezone

from overt import errors
from overt.access.recording_log import record_for_recording
from overt.access.services import Action, User, check, visible_recordings
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor, Client, Subject, record
from overt.evidence.models import Derivative, Recording
from overt.evidence.store import get_store
from overt.retention.holds import set_hold

from .models import Case, CaseDocument, CaseItem
from .services import _log, _release, _require_change, active_items, actor_of

DERIVED_KINDS = {
    "clip": CaseItem.Kind.CLIP,
    "still": CaseItem.Kind.STILL,
    "redacted": CaseItem.Kind.REDACTED,
    "transcript": CaseItem.Kind.TRANSCRIPT,
}
DOCUMENT_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/tiff"}
MAX_DOCUMENT_BYTES = 200 * 1024 * 1024


def _hold(case: Case, recording: Recording, actor: Actor) -> int | None:
    """An open case holds its footage: one retention hold per recording per case."""
    held = CaseItem.objects.filter(
        case=case, recording=recording, removed_at__isnull=True, hold_id__isnull=False
    ).values_list("hold_id", flat=True)
    if held:
        return None  # the case already holds it, through another item
    result = set_hold(
        recording.pk,
        kind="case",
        reference=case.reference,
        actor=actor,
        reason=f"case {case.reference} is open: {case.title}",
    )
    return result.hold.pk


def _recording(user: User, recording_id: object, client: Client | None) -> Recording:
    try:
        pk = int(str(recording_id))
    except ValueError:
        raise errors.Invalid("recording must be a recording id", field="recording") from None
    found = visible_recordings(user).filter(pk=pk).first()
    if found is None:
        raise errors.NotFound("no such recording, or you may not see it")
    check(user, Action.EDIT, found, client=client)
    return found


def add_recording(
    user: User, case: Case, recording_id: object, *, client: Client | None = None
) -> CaseItem:
    _require_change(user, case)
    actor = actor_of(user)
    with transaction.atomic():
        recording = _recording(user, recording_id, client)
        if CaseItem.objects.filter(
            case=case, recording=recording, kind=CaseItem.Kind.RECORDING, removed_at__isnull=True
        ).exists():
            raise errors.Conflict(f"recording {recording.pk} is already in case {case.reference}")
        item = CaseItem.objects.create(
            case=case, kind=CaseItem.Kind.RECORDING, recording=recording, added_by=str(actor)
        )
        item.hold_id = _hold(case, recording, actor)
        item.save(update_fields=["hold_id"])
        entries = record_for_recording(
            "case-change",
            actor,
            recording,
            client=client,
            details={
                "case": case.pk,
                "reference": case.reference,
                "change": "item-added",
                "item": item.pk,
                "kind": item.kind,
            },
        )
        _log(case, entries, f"recording {recording.pk} added by {user.get_username()}")
    return item


def add_recordings(
    user: User, case: Case, recording_ids: Iterable[object], *, client: Client | None = None
) -> list[CaseItem]:
    """The library's bulk action: all or none, each with its own custody entries."""
    with transaction.atomic():
        return [add_recording(user, case, rid, client=client) for rid in recording_ids]


def add_derivative(
    user: User, case: Case, derivative_id: object, *, client: Client | None = None
) -> CaseItem:
    """A clip, still or redacted copy; its recording must be one the user may edit."""
    _require_change(user, case)
    try:
        pk = int(str(derivative_id))
    except ValueError:
        raise errors.Invalid("derivative must be an id", field="derivative") from None
    derivative = Derivative.objects.select_related("original").filter(pk=pk).first()
    if derivative is None or derivative.kind not in DERIVED_KINDS:
        raise errors.NotFound("no such clip, still or redacted copy, or you may not see it")
    actor = actor_of(user)
    with transaction.atomic():
        recording = _recording(user, derivative.original.recording_id, client)
        if CaseItem.objects.filter(
            case=case, derivative=derivative, removed_at__isnull=True
        ).exists():
            raise errors.Conflict(f"{derivative.kind} {pk} is already in case {case.reference}")
        item = CaseItem.objects.create(
            case=case,
            kind=DERIVED_KINDS[derivative.kind],
            recording=recording,
            derivative=derivative,
            added_by=str(actor),
        )
        item.hold_id = _hold(case, recording, actor)
        item.save(update_fields=["hold_id"])
        entry = record(
            "case-change",
            actor,
            Subject(
                derivative.original.sha256,
                {
                    "original": derivative.original_id,
                    "recording": recording.pk,
                    "derivative": derivative.pk,
                },
            ),
            client=client,
            details={
                "case": case.pk,
                "reference": case.reference,
                "change": "item-added",
                "item": item.pk,
                "kind": item.kind,
                "derivative_sha256": derivative.sha256,
            },
        )
        _log(case, [entry], f"{derivative.kind} {pk} added by {user.get_username()}")
    return item


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return None


def add_document(
    user: User, case: Case, filename: str, data: IO[bytes], *, client: Client | None = None
) -> CaseItem:
    """A PDF or picture, kept write-once in the evidence store like any original."""
    _require_change(user, case)
    head = data.read(16)
    kind = _sniff(head)
    if kind is None:
        raise errors.Invalid("documents must be PDF, JPEG, PNG or TIFF files", field="file")
    body = head + data.read(MAX_DOCUMENT_BYTES + 1 - len(head))
    if len(body) > MAX_DOCUMENT_BYTES:
        raise errors.TooLarge(f"a document may be at most {MAX_DOCUMENT_BYTES} bytes")
    name = "".join(c if c.isalnum() or c in "._- " else "_" for c in filename)[:200] or "document"
    stored = get_store().put(io.BytesIO(body))
    actor = actor_of(user)
    with transaction.atomic():
        document = CaseDocument.objects.create(
            case=case,
            sha256=stored.sha256,
            size=stored.size,
            filename=name,
            content_type=kind,
            uploaded_by=str(actor),
        )
        item = CaseItem.objects.create(
            case=case, kind=CaseItem.Kind.DOCUMENT, document=document, added_by=str(actor)
        )
        entry = record(
            "case-change",
            actor,
            Subject(stored.sha256, {"case": case.pk, "document": document.pk}),
            client=client,
            details={
                "case": case.pk,
                "reference": case.reference,
                "change": "document-added",
                "item": item.pk,
                "filename": name,
                "size": stored.size,
            },
        )
        _log(case, [entry], f"document {name} added by {user.get_username()}")
    return item


def item_of(case: Case, item_id: object) -> CaseItem:
    try:
        pk = int(str(item_id))
    except ValueError:
        raise errors.NotFound("no such item in this case") from None
    item = active_items(case).filter(pk=pk).first()
    if item is None:
        raise errors.NotFound("no such item in this case")
    return item


def _item_entries(
    item: CaseItem, actor: Actor, details: dict[str, Any], client: Client | None, reason: str = ""
) -> list[CustodyEntry]:
    full = {
        "case": item.case_id,
        "reference": item.case.reference,
        "item": item.pk,
        "kind": item.kind,
        **details,
    }
    if item.recording is not None:
        return record_for_recording(
            "case-change", actor, item.recording, client=client, justification=reason, details=full
        )
    assert item.document is not None
    return [
        record(
            "case-change",
            actor,
            Subject(item.document.sha256, {"case": item.case_id, "document": item.document.pk}),
            client=client,
            justification=reason,
            details=full,
        )
    ]


def remove_item(
    user: User, case: Case, item_id: object, *, reason: str, client: Client | None = None
) -> CaseItem:
    """Take an item out (its hold is released; links that showed it answer 410)."""
    _require_change(user, case)
    if not reason.strip():
        raise errors.Invalid("removing an item needs a reason", field="reason")
    actor = actor_of(user)
    with transaction.atomic():
        item = item_of(case, item_id)
        item.removed_at, item.removed_by = timezone.now(), str(actor)
        item.save(update_fields=["removed_at", "removed_by"])
        if item.hold_id is not None:
            still = active_items(case).filter(recording=item.recording).first()
            if still is not None:  # another item of the recording keeps the case's hold
                still.hold_id, item.hold_id = item.hold_id, None
                still.save(update_fields=["hold_id"])
                item.save(update_fields=["hold_id"])
            else:
                _release(item, actor, f"removed from case {case.reference}: {reason}")
        entries = _item_entries(item, actor, {"change": "item-removed"}, client, reason)
        _log(case, entries, f"{item.label} removed: {reason}")
    return item


def set_do_not_disclose(
    user: User,
    case: Case,
    item_id: object,
    flag: bool,
    *,
    reason: str,
    client: Client | None = None,
) -> CaseItem:
    """Mark an item Do Not Disclose (it can then never be shared or bundled), or clear it."""
    _require_change(user, case)
    if not reason.strip():
        raise errors.Invalid("a do-not-disclose change needs a reason", field="reason")
    actor = actor_of(user)
    with transaction.atomic():
        item = item_of(case, item_id)
        item.do_not_disclose, item.do_not_disclose_reason = flag, reason if flag else ""
        item.save(update_fields=["do_not_disclose", "do_not_disclose_reason"])
        change = "do-not-disclose-set" if flag else "do-not-disclose-cleared"
        entries = _item_entries(item, actor, {"change": change}, client, reason)
        _log(case, entries, f"{item.label}: {change} ({reason})")
    return item
