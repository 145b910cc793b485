"""Downloading a case's document inside the force: the stored bytes, byte for byte, after a
`download` custody entry (in its own transaction, before any byte leaves) that names the
case, the document and the reader. Whoever may see the case may read its paperwork: the
case relation of the access matrix is what lets them see the case at all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import transaction

from overt import errors
from overt.access.services import User
from overt.custody.services import Client, Subject, record
from overt.evidence.store import get_store

from .items import item_of
from .models import CaseItem
from .services import actor_of, case_for, log_case


@dataclass(frozen=True)
class Download:
    """Stored bytes handed out, with what a response needs and the `download` entry
    logged for them (a case document here; a shared item in recipient.download)."""

    filename: str
    content_type: str
    size: int
    sha256: str
    chunks: Iterator[bytes]
    custody_index: int


def download_document(
    user: User, case_id: object, item_id: object, *, client: Client | None = None
) -> Download:
    case = case_for(user, case_id)  # NotFound, revealing nothing, for a case not theirs
    item = item_of(case, item_id)
    document = item.document
    if item.kind != CaseItem.Kind.DOCUMENT or document is None:
        raise errors.NotFound("no such document in this case")
    if not get_store().exists(document.sha256):
        raise errors.Gone(f"document {document.filename} is no longer in the evidence store")
    actor = actor_of(user)
    with transaction.atomic():
        entry = record(
            "download",
            actor,
            Subject(document.sha256, {"case": case.pk, "document": document.pk}),
            client=client,
            details={
                "case": case.pk,
                "reference": case.reference,
                "item": item.pk,
                "filename": document.filename,
                "size": document.size,
            },
        )
        log_case(case, [entry], f"document {document.filename} downloaded by {user.get_username()}")
    return Download(
        document.filename,
        document.content_type,
        document.size,
        document.sha256,
        get_store().read_range(document.sha256),
        entry.index,
    )
