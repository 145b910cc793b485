"""Sharing a case or a recording with someone who has no overt account.

A share is a link (`/s/<id>`, 128 random bits) and a separate code (ten characters, about
49 bits, shown once, kept only as an argon2 hash, and rate-limited). It lasts at most
`MAX_DAYS`. What it holds is fixed when it is made, with every file's SHA-256, so the
receipt can say exactly what left. Only holders of `share-outside` share, and the access
matrix must allow `export` of every recording in it (footage leaving overt), asked through
the access service, which logs a refusal. Do-not-disclose items are never shared.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from overt import errors
from overt.access.recording_log import record_for_recording
from overt.access.services import Action, Capability, User, check, require, visible_recordings
from overt.conf import get_settings
from overt.custody.models import CustodyEntry
from overt.custody.services import Client, Subject, record
from overt.evidence.models import Recording
from overt.evidence.store import get_store
from overt.redaction.leaks import require_releasable

from . import mail
from .models import Case, CaseItem, ExternalShare, SharedItem, ShareEvent
from .services import actor_of, case_for, log_case

log = logging.getLogger(__name__)
MAX_DAYS = 90
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud, typed by hand
CODE_LENGTH = 10
HASHER = PasswordHasher()


def share_url(share: ExternalShare) -> str:
    return f"{get_settings().public_url.rstrip('/')}/s/{share.pk}"


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise_code(code: object) -> str:
    text = str(code or "").upper().replace("-", "").replace(" ", "")
    return f"{text[:5]}-{text[5:]}" if len(text) == CODE_LENGTH else text


def mark_of(share: ExternalShare) -> str:
    """The share's name in watermarks and receipts: enough to find it, not to open it."""
    return share.pk[:8]


@dataclass
class NewShare:
    share: ExternalShare
    code: str  # shown once; never stored
    url: str
    withheld: list[str] = field(default_factory=list)  # do-not-disclose items left out
    mail_problem: str = ""


def _when(value: object) -> datetime:
    if isinstance(value, datetime):
        when = value
    else:
        from django.utils.dateparse import parse_datetime

        parsed = parse_datetime(str(value or ""))
        if parsed is None:
            raise errors.Invalid("expires_at must be an ISO 8601 time", field="expires_at")
        when = parsed
    if timezone.is_naive(when):
        when = timezone.make_aware(when, UTC)
    now = timezone.now()
    if when <= now:
        raise errors.Invalid("expires_at must be in the future", field="expires_at")
    if when > now + timedelta(days=MAX_DAYS):
        raise errors.Invalid(f"a share lasts at most {MAX_DAYS} days", field="expires_at")
    return when


def _files_of(item: CaseItem | None, recording: Recording | None) -> list[dict[str, Any]]:
    if item is not None and item.document is not None:
        d = item.document
        return [{"name": d.filename, "sha256": d.sha256, "size": d.size}]
    if item is not None and item.derivative is not None:
        v = item.derivative
        ext = {"clip": "mp4", "redacted": "mp4", "still": "png", "transcript": "json"}.get(
            v.kind, "bin"
        )
        return [
            {
                "name": f"{v.kind}-{v.pk}.{ext}",
                "sha256": v.sha256,
                "size": v.size,
                "derived_from": v.original.sha256,
            }
        ]
    assert recording is not None
    return [
        {"name": o.filename, "sha256": o.sha256, "size": o.size}
        for o in recording.originals.order_by("started_at", "pk")
    ]


def _dnd_recordings() -> QuerySet[CaseItem]:
    return CaseItem.objects.filter(removed_at__isnull=True, do_not_disclose=True)


def create_share(
    user: User,
    *,
    case: object = None,
    recording: object = None,
    recipient_name: str,
    recipient_email: str,
    expires_at: object,
    allow_download: bool = False,
    recipient_organisation: str = "",
    items: list[int] | None = None,
    send_mail: bool = False,
    client: Client | None = None,
) -> NewShare:
    require(user, Capability.SHARE_OUTSIDE)
    if (case is None) == (recording is None):
        raise errors.Invalid("share either a case or a recording", field="case")
    name, email = (recipient_name or "").strip(), (recipient_email or "").strip()
    if not name or len(name) > 200:
        raise errors.Invalid("recipient_name is required", field="recipient_name")
    if "@" not in email or len(email) > 254:
        raise errors.Invalid("recipient_email must be an email address", field="recipient_email")
    expires = _when(expires_at)
    chosen: list[tuple[CaseItem | None, Recording | None]] = []
    withheld: list[str] = []
    the_case: Case | None = None
    if case is not None:
        the_case = case_for(user, case)
        pool = list(
            the_case.items.filter(removed_at__isnull=True).select_related(
                "recording", "derivative__original", "document"
            )
        )
        if items is not None:
            wanted = {int(i) for i in items}
            pool = [i for i in pool if i.pk in wanted]
            if len(pool) != len(wanted):
                raise errors.Invalid("items must be items of this case", field="items")
            if dnd := [i for i in pool if i.do_not_disclose]:
                raise errors.Conflict(
                    "marked do-not-disclose, so never shared: "
                    + ", ".join(f"{i.label} ({i.do_not_disclose_reason})" for i in dnd)
                )
        withheld = [f"{i.label}: {i.do_not_disclose_reason}" for i in pool if i.do_not_disclose]
        chosen = [(i, i.recording) for i in pool if not i.do_not_disclose]
        if not chosen:
            raise errors.Invalid("this case has nothing that may be shared", field="case")
    else:
        try:
            found = visible_recordings(user).filter(pk=int(str(recording))).first()
        except ValueError:
            found = None
        if found is None:
            raise errors.NotFound("no such recording, or you may not see it")
        if _dnd_recordings().filter(recording=found, kind=CaseItem.Kind.RECORDING).exists():
            raise errors.Conflict(
                f"recording {found.pk} is marked do-not-disclose in a case, so it is never shared"
            )
        chosen = [(None, found)]
    # A redacted copy leaves only once its leak check is clear (issue 15).
    for item, _ in chosen:
        if item is not None and item.derivative is not None:
            require_releasable(item.derivative)
    recordings = {r.pk: r for _, r in chosen if r is not None}
    for rec in recordings.values():
        check(user, Action.EXPORT, rec, client=client)  # footage leaving overt: logged if refused
    files = [(item, rec, _files_of(item, rec)) for item, rec in chosen]
    store = get_store()
    if gone := [f["name"] for _, _, fs in files for f in fs if not store.exists(f["sha256"])]:
        raise errors.Gone("no longer in the evidence store (purged): " + ", ".join(gone))
    code = new_code()
    actor = actor_of(user)
    with transaction.atomic():
        share = ExternalShare.objects.create(
            id=secrets.token_hex(16),
            case=the_case,
            recording=None if the_case else chosen[0][1],
            recipient_name=name,
            recipient_organisation=(recipient_organisation or "").strip()[:200],
            recipient_email=email,
            expires_at=expires,
            allow_download=bool(allow_download),
            code_hash=HASHER.hash(code),
            created_by=str(actor),
        )
        for item, what, fs in files:
            SharedItem.objects.create(
                share=share,
                case_item=item,
                kind=item.kind if item else "recording",
                recording=what,
                derivative=item.derivative if item else None,
                document=item.document if item else None,
                label=item.label
                if item
                else f"recording {what.pk if what else ''}: {what.title if what else ''}",
                files=fs,
            )
        details = {
            "share": mark_of(share),
            "recipient": name,
            "recipient_email": email,
            "organisation": share.recipient_organisation,
            "case": the_case.pk if the_case else None,
            "expires_at": expires.isoformat(),
            "allow_download": share.allow_download,
        }
        entries: list[CustodyEntry] = []
        for rec in recordings.values():
            entries += record_for_recording("share", actor, rec, client=client, details=details)
        for item, _, fs in files:
            if item is not None and item.document is not None:
                entries.append(
                    record(
                        "share",
                        actor,
                        Subject(
                            fs[0]["sha256"], {"case": item.case_id, "document": item.document.pk}
                        ),
                        client=client,
                        details=details,
                    )
                )
        event(
            share,
            ShareEvent.Kind.CREATED,
            detail=f"by {user.get_username()}",
            entry=entries[0],
            address=client.address if client else "",
        )
        if the_case is not None:
            log_case(
                the_case, entries[:1], f"shared with {name} <{email}> until {expires:%Y-%m-%d}"
            )
        from .prerender import request_copies  # it needs mark_of, from here

        request_copies(share)  # the marked copies are made in the background (prerender)
    made = NewShare(share, code, share_url(share), withheld)
    if send_mail:
        made.mail_problem = _mail(share, code, made.url, user.get_username())
    return made


def _mail(share: ExternalShare, code: str, url: str, by: str) -> str:
    settings = get_settings()
    message = mail.share_message(
        to=share.recipient_email,
        name=share.recipient_name,
        url=url,
        code=code,
        expires=f"{share.expires_at:%d %B %Y %H:%M} UTC",
        sender=settings.mail_from,
        by=by,
    )
    try:
        mail.send(message)
    except mail.MailError as exc:
        return str(exc)
    ExternalShare.objects.filter(pk=share.pk).update(emailed=True)
    share.emailed = True
    return ""


def event(
    share: ExternalShare | None,
    kind: str,
    *,
    item: SharedItem | None = None,
    detail: str = "",
    entry: CustodyEntry | None = None,
    address: str = "",
) -> ShareEvent:
    return ShareEvent.objects.create(
        share=share,
        kind=kind,
        item=item,
        detail=detail[:500],
        custody_index=entry.index if entry else None,
        address=address[:64],
    )


def visible_shares(user: User) -> QuerySet[ExternalShare]:
    require(user, Capability.SHARE_OUTSIDE)
    return ExternalShare.objects.all()


def share_for(user: User, share_id: object) -> ExternalShare:
    found = visible_shares(user).filter(pk=str(share_id)).first()
    if found is None:
        raise errors.NotFound("no such share, or you may not see it")
    return found


def revoke_share(
    user: User, share_id: object, *, reason: str = "", client: Client | None = None
) -> ExternalShare:
    """End a share at once: its link answers 410 from now on."""
    share = share_for(user, share_id)
    if share.revoked_at is not None:
        return share
    actor = actor_of(user)
    with transaction.atomic():
        share.revoked_at, share.revoked_by = timezone.now(), str(actor)
        share.revoke_reason = reason[:2000]
        share.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        details = {
            "change": "share-revoked",
            "share": mark_of(share),
            "recipient": share.recipient_name,
        }
        entries: list[CustodyEntry] = []
        for rec in Recording.objects.filter(pk__in=share.items.values("recording_id")):
            entries += record_for_recording(
                "permission-change",
                actor,
                rec,
                client=client,
                justification=reason,
                details=details,
            )
        if not entries:
            entries.append(
                record(
                    "permission-change",
                    actor,
                    Subject("", {"case": share.case_id or 0}),
                    client=client,
                    justification=reason,
                    details=details,
                )
            )
        event(
            share,
            ShareEvent.Kind.REVOKED,
            detail=f"by {user.get_username()}: {reason}",
            entry=entries[0],
            address=client.address if client else "",
        )
        if share.case is not None:
            log_case(share.case, entries[:1], f"share to {share.recipient_name} revoked")
    from .prerender import drop_copies

    drop_copies(share)
    return share
