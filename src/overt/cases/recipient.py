"""The outside recipient's side of a share: no account, a link and a code.

Order, so nothing leaks: an unknown link is 404 (and counted against the address); a
revoked or expired share is 410; too many wrong codes for the share or from the address
are 429; a wrong code is 403; an item removed from the case, withdrawn (do-not-disclose)
or purged under retention is 410. Each refusal is a `share-refused` custody entry and a
receipt event; each view and download is a `view` or `download` entry naming the share,
committed before the first byte. Playback is watermarked (overt.cases.watermark).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from overt import errors
from overt.access.recording_log import record_for_recording
from overt.conf import get_settings
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor, Client, Subject, record
from overt.evidence.store import get_store

from . import prerender
from .documents import Download
from .models import ExternalShare, SharedItem, ShareEvent
from .sharing import HASHER, event, mark_of, normalise_code
from .watermark import watermark_png, watermarked_mp4


class TooManyTries(errors.DomainError):
    status, title = 429, "Too Many Requests"


class WrongCode(errors.Refused):
    pass


def recipient_actor(share: ExternalShare) -> Actor:
    return Actor("user", f"share:{mark_of(share)} ({share.recipient_email})")


def _refuse(
    share: ExternalShare,
    why: str,
    client: Client,
    item: SharedItem | None = None,
    kind: str = ShareEvent.Kind.REFUSED,
) -> CustodyEntry:
    with transaction.atomic():
        entry = record(
            "share-refused",
            recipient_actor(share),
            Subject("", {"share": mark_of(share)}),
            client=client,
            details={"share": mark_of(share), "reason": why, "item": item.pk if item else None},
        )
        event(share, kind, item=item, detail=why, entry=entry, address=client.address)
    return entry


def live_share(share_id: str, client: Client) -> ExternalShare:
    share = ExternalShare.objects.filter(pk=str(share_id)[:32]).first()
    if share is None:
        event(None, ShareEvent.Kind.REFUSED, detail="unknown link", address=client.address)
        raise errors.NotFound("this link does not exist")
    if share.revoked_at is not None:
        _refuse(share, "revoked", client)
        raise errors.Gone(f"this share was revoked on {share.revoked_at:%d %B %Y at %H:%M} UTC")
    if share.expires_at <= timezone.now():
        _refuse(share, "expired", client)
        prerender.drop_copies(share)
        raise errors.Gone(f"this share expired on {share.expires_at:%d %B %Y at %H:%M} UTC")
    return share


def _failures(share: ExternalShare, address: str) -> tuple[int, int]:
    since = timezone.now() - timedelta(seconds=get_settings().login_lockout_seconds)
    wrong = ShareEvent.objects.filter(at__gte=since).filter(
        Q(kind=ShareEvent.Kind.WRONG_CODE) | Q(kind=ShareEvent.Kind.REFUSED, share__isnull=True)
    )
    return wrong.filter(share=share).count(), wrong.filter(
        address=address
    ).count() if address else 0


def unlock(share_id: str, code: object, client: Client) -> ExternalShare:
    """Check the code; the caller then marks the browser session as holding it."""
    share = live_share(share_id, client)
    limit = get_settings().share_code_max_failures
    for_share, for_address = _failures(share, client.address)
    if for_share >= limit or for_address >= limit:
        _refuse(share, "too many wrong codes", client, kind=ShareEvent.Kind.LIMITED)
        raise TooManyTries("too many wrong codes: try again later, or ask the sender")
    try:
        HASHER.verify(share.code_hash, normalise_code(code))
    except (VerificationError, InvalidHashError):
        _refuse(share, "wrong code", client, kind=ShareEvent.Kind.WRONG_CODE)
        raise WrongCode("that code is not right for this link") from None
    event(share, ShareEvent.Kind.OPENED, address=client.address)
    return share


def shared_item(share: ExternalShare, item_id: object, client: Client) -> SharedItem:
    try:
        pk = int(str(item_id))
    except ValueError:
        raise errors.NotFound("no such item in this share") from None
    item = share.items.select_related("case_item", "derivative", "document").filter(pk=pk).first()
    if item is None:
        raise errors.NotFound("no such item in this share")
    why = ""
    if item.case_item is not None and item.case_item.removed_at is not None:
        why = "removed from the case since it was shared"
    elif item.case_item is not None and item.case_item.do_not_disclose:
        why = "withdrawn: marked do-not-disclose since it was shared"
    elif not all(get_store().exists(f["sha256"]) for f in item.files):
        why = "no longer held: deleted under the retention rules"
    if why:
        _refuse(share, why, client, item)
        raise errors.Gone(f"{item.label}: {why}")
    return item


def _part(item: SharedItem, part: int) -> dict[str, object]:
    if not 0 <= part < len(item.files):
        raise errors.NotFound("no such part of this item")
    return dict(item.files[part])


def watermark_text(share: ExternalShare) -> str:
    org = f", {share.recipient_organisation}" if share.recipient_organisation else ""
    now = timezone.now()
    return f"{share.recipient_name}{org} · share {mark_of(share)} · {now:%Y-%m-%d %H:%M} UTC"


def _log_use(
    action: str, share: ExternalShare, item: SharedItem, sha256: str, client: Client, kind: str
) -> CustodyEntry:
    details = {
        "share": mark_of(share),
        "recipient": share.recipient_name,
        "item": item.pk,
        "sha256": sha256,
    }
    actor = recipient_actor(share)
    with transaction.atomic():
        if item.recording is not None and item.derivative is None:
            entry = record_for_recording(
                action, actor, item.recording, client=client, details=details
            )[0]
        else:
            ids: dict[str, int | str] = {"share_item": item.pk}
            entry = record(action, actor, Subject(sha256, ids), client=client, details=details)
        event(
            share,
            kind,
            item=item,
            entry=entry,
            address=client.address,
            detail=str(details["sha256"])[:12],
        )
    return entry


@dataclass
class Playback:
    content_type: str
    chunks: Iterator[bytes]
    custody_index: int


def _stream_of(sha256: str, text: str) -> Iterator[bytes]:
    with get_store().local_copy(sha256) as path:
        yield from watermarked_mp4(str(path), text)


def watch(share: ExternalShare, item: SharedItem, part: int, client: Client) -> Playback:
    """The item's picture with the watermark burned in (a view entry first)."""
    if item.document is not None or item.kind == "transcript":
        raise errors.Invalid("documents and transcripts are read, not played: download them")
    source = prerender.source_of(item, part)
    if source is None or not get_store().exists(source.sha256):
        raise errors.Unavailable("this recording's playable copy is still being made")
    text = watermark_text(share)
    entry = _log_use(
        "view", share, item, str(_part(item, part)["sha256"]), client, ShareEvent.Kind.VIEWED
    )
    if source.kind == "still":
        data = b"".join(get_store().read_range(source.sha256))
        return Playback("image/png", iter([watermark_png(data, text)]), entry.index)
    copy = prerender.ready_copy(item, part)
    if copy is not None:  # made when the share was: the usual case (see prerender)
        return Playback("video/mp4", prerender.file_chunks(copy.path), entry.index)
    return Playback("video/mp4", _stream_of(source.sha256, text), entry.index)


def download(share: ExternalShare, item: SharedItem, part: int, client: Client) -> Download:
    """The file as held, byte for byte: an original, a clip, still, redacted copy or document."""
    if not share.allow_download:
        _refuse(share, "download not allowed: view only", client, item)
        raise errors.Refused("this share is view only: downloading is not allowed")
    chosen = _part(item, part)
    sha = str(chosen["sha256"])
    entry = _log_use("download", share, item, sha, client, ShareEvent.Kind.DOWNLOADED)
    content_type = item.document.content_type if item.document else "application/octet-stream"
    return Download(
        str(chosen["name"]),
        content_type,
        int(str(chosen["size"])),
        sha,
        get_store().read_range(sha),
        entry.index,
    )


def repr_digest(sha256: str) -> str:
    """RFC 9530 Repr-Digest, so the recipient can check what arrived."""
    import base64

    return f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:"
