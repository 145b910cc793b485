"""A share's receipt: what was shared (with hashes), with whom, when, by whom, and what the
recipient opened and downloaded, as JSON and PDF.

It is made afresh each time it is asked for, so it is always up to date; each time a
checkpoint of the custody log is signed (or the one already signed at this size reused),
and every custody entry the receipt cites comes with its inclusion proof against it. So
anyone with the force's verifier key can check offline (`overt_verify_bundle.py --receipt
receipt.json`) that the log holds exactly these entries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from overt import errors
from overt.access.services import User
from overt.custody.checkpoints import issue_checkpoint
from overt.custody.keys import verifier_key_text
from overt.custody.models import CustodyEntry
from overt.custody.proofs import inclusion_json
from overt.custody.services import Actor, Client, Subject, record

from .models import ExternalShare, ShareEvent
from .sharing import mark_of, share_for, share_url

RECEIPT_FORMAT = "overt-share-receipt/1"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def receipt(share: ExternalShare, user: User | None = None) -> dict[str, Any]:
    events = list(share.events.select_related("item").order_by("at", "id"))
    indices = sorted({e.custody_index for e in events if e.custody_index is not None})
    checkpoint = issue_checkpoint()
    entries = []
    for entry in CustodyEntry.objects.filter(index__in=indices).order_by("index"):
        entries.append(
            {
                "leaf_index": entry.index,
                "leaf_hash": entry.leaf_hash,
                "entry": entry.entry,
                "proof": inclusion_json(entry.index, checkpoint.size, with_checkpoint=False),
            }
        )
    now = timezone.now()
    state = "revoked" if share.revoked_at else ("expired" if share.expires_at <= now else "active")
    return {
        "format": RECEIPT_FORMAT,
        "made_at": _iso(now),
        "made_for": user.get_username() if user is not None and user.is_authenticated else "",
        "share": {
            "mark": mark_of(share),
            "url": share_url(share),
            "state": state,
            "case": {"reference": share.case.reference, "title": share.case.title}
            if share.case
            else None,
            "recording": share.recording_id,
            "shared_by": share.created_by,
            "shared_at": _iso(share.created_at),
            "expires_at": _iso(share.expires_at),
            "allow_download": share.allow_download,
            "code_emailed": share.emailed,
            "revoked_at": _iso(share.revoked_at),
            "revoked_by": share.revoked_by,
            "revoke_reason": share.revoke_reason,
        },
        "recipient": {
            "name": share.recipient_name,
            "organisation": share.recipient_organisation,
            "email": share.recipient_email,
        },
        "items": [
            {"id": i.pk, "kind": i.kind, "label": i.label, "files": i.files}
            for i in share.items.all()
        ],
        "events": [
            {
                "at": _iso(e.at),
                "what": e.kind,
                "item": e.item_id,
                "item_label": e.item.label if e.item else "",
                "detail": e.detail,
                "address": e.address,
                "custody_index": e.custody_index,
            }
            for e in events
        ],
        "summary": {
            k: sum(1 for e in events if e.kind == k)
            for k in (
                ShareEvent.Kind.OPENED,
                ShareEvent.Kind.VIEWED,
                ShareEvent.Kind.DOWNLOADED,
                ShareEvent.Kind.WRONG_CODE,
                ShareEvent.Kind.REFUSED,
            )
        },
        "checkpoint": {"size": checkpoint.size, "root": checkpoint.root, "note": checkpoint.note},
        "entries": entries,
        "verifier_key": verifier_key_text(),
        "how_to_verify": "python3 overt_verify_bundle.py --receipt receipt.json",
    }


def receipt_pdf(data: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    html = render_to_string("cases/receipt.html", {"r": data})
    return bytes(HTML(string=html).write_pdf())


@dataclass(frozen=True)
class ReceiptFile:
    filename: str
    content_type: str
    body: bytes


def issue_receipt(
    user: User, share_id: object, *, fmt: str = "json", client: Client | None = None
) -> dict[str, Any]:
    """The receipt handed out as a document (API, download, CLI): an `export` entry names
    the share, and the receipt's checkpoint already covers that entry. (Showing the share's
    own page to its sharer is not logged, as a case page is not.)"""
    with transaction.atomic():
        share = share_for(user, share_id)
        record(
            "export",
            Actor("user", user.get_username()),
            Subject("", {"share": mark_of(share)}),
            client=client,
            details={"what": "share receipt", "format": fmt},
        )
        return receipt(share, user)


def receipt_file(
    user: User, share_id: object, fmt: str, client: Client | None = None
) -> ReceiptFile:
    """The receipt as a file (`json` or `pdf`), for the share page's links, the API and the
    CLI alike, each time with its `export` custody entry."""
    if fmt not in ("json", "pdf"):
        raise errors.Invalid("a receipt is json or pdf", field="format")
    data = issue_receipt(user, share_id, fmt=fmt, client=client)
    name = f"receipt-{data['share']['mark']}.{fmt}"
    if fmt == "pdf":
        return ReceiptFile(name, "application/pdf", receipt_pdf(data))
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return ReceiptFile(name, "application/json", text.encode())
