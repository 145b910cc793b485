"""The one way a derivative enters the catalogue: its bytes in the evidence store, its
Derivative row with provenance, and its `derivative-create` custody entry, the row and
the entry in the same transaction, so a derivative never exists without its entry.

Media (proxy, poster, sprite, waveform), review (clips, stills) and redaction (redacted
copies) all come through here; nothing else creates Derivative rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from overt.custody.services import Actor, Client, Subject, record
from overt.evidence.models import Derivative, Original
from overt.evidence.store import EvidenceStore, StoredObject, get_store

GENERATOR_VERSION_MAX = Derivative._meta.get_field("generator_version").max_length or 200


@dataclass(frozen=True, slots=True)
class Provenance:
    """Which code made a derivative, and with which library versions."""

    generator: str
    version: str

    def __post_init__(self) -> None:
        # The row's column is bounded; the entry records exactly what the row holds.
        object.__setattr__(self, "version", self.version[:GENERATOR_VERSION_MAX])


@dataclass(frozen=True, slots=True)
class Requester:
    """Who the custody entry names, and the ids that help a reader find the derivative.

    `ids` come first in the entry's object ids (in this order), then `derivative`.
    """

    actor: Actor
    ids: Mapping[str, int | str]
    client: Client | None = None


def store_derivative(
    original: Original,
    kind: str,
    path: Path,
    *,
    content_type: str,
    provenance: Provenance,
    facts: dict[str, Any],
    requester: Requester,
    details: Mapping[str, Any] | None = None,
    store: EvidenceStore | None = None,
) -> Derivative:
    """Store the file at `path` (content-addressed, so a retry stores nothing twice),
    then catalogue it with its custody entry (see `catalogue_derivative`)."""
    stored = (store or get_store()).put_file(path)
    return catalogue_derivative(
        original,
        kind,
        stored,
        content_type=content_type,
        provenance=provenance,
        facts=facts,
        requester=requester,
        details=details,
    )


def catalogue_derivative(
    original: Original,
    kind: str,
    stored: StoredObject,
    *,
    content_type: str,
    provenance: Provenance,
    facts: dict[str, Any],
    requester: Requester,
    details: Mapping[str, Any] | None = None,
    before_entry: Callable[[Derivative], None] | None = None,
) -> Derivative:
    """Catalogue already-stored bytes: the Derivative row and its `derivative-create`
    entry, in one transaction (the caller's, when it has one open).

    The entry's details are the kind, hash, size and provenance, then `details`.
    `before_entry` runs after the row exists and before its entry is written, for an
    action whose own entry must come first and name the derivative (a redaction render).
    Raises whatever the database raises (a uniqueness race, say) with nothing kept.
    """
    with transaction.atomic():
        derivative = Derivative.objects.create(
            original=original,
            kind=kind,
            sha256=stored.sha256,
            size=stored.size,
            content_type=content_type,
            generator=provenance.generator,
            generator_version=provenance.version,
            facts=facts,
        )
        if before_entry is not None:
            before_entry(derivative)
        record(
            "derivative-create",
            requester.actor,
            Subject(original.sha256, {**requester.ids, "derivative": derivative.pk}),
            client=requester.client,
            details={
                "kind": kind,
                "sha256": stored.sha256,
                "size": stored.size,
                "generator": provenance.generator,
                "generator_version": provenance.version,
                **(details or {}),
            },
        )
    return derivative
