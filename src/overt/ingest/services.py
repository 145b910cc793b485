"""The ingest service: the one front door every way of delivering footage comes through.

A door (the command line, a dock folder, tus, an Axis Body Worn System) describes the
file in an `IngestRequest` (overt.ingest.request) and calls `ingest`; `ingest_file` does
that for a file and its parsed sidecar. The work is an ordered list of small steps
(overt.ingest.steps): one pre-check for every door (overt.ingest.prechecks), then the
store, then the catalogue row with its custody entry and jobs in one transaction.

Order matters. The bytes are read once, hashed and made durable in the store
first; only then is the catalogue row written, with its custody entry, in one
transaction. A crash between the two leaves an unreferenced object (harmless, and
re-ingest finds it) but never a catalogue row without its complete object.
Known bytes arriving again are not stored twice, but the delivery is still recorded: a
custody `ingest` entry marked `duplicate`, naming who, which camera and which door.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from django.db import IntegrityError, transaction

from overt.custody.services import Actor
from overt.evidence.models import Original
from overt.evidence.store import EvidenceStore, get_store

from . import steps
from .people import IngestError, NoDevice, NoOfficer, UnknownDevice, UnknownOfficer
from .prechecks import ImpossibleTime, UnknownCategory
from .request import IngestRequest, IngestResult, from_sidecar
from .sidecar import Sidecar

# The errors live beside the checks that raise them and are re-exported here, where
# callers look.
__all__ = [
    "ImpossibleTime",
    "IngestError",
    "IngestRequest",
    "IngestResult",
    "NoDevice",
    "NoOfficer",
    "UnknownCategory",
    "UnknownDevice",
    "UnknownOfficer",
    "ingest",
    "ingest_file",
]


def ingest(
    request: IngestRequest,
    *,
    store: EvidenceStore | None = None,
    progress: Callable[[int], None] | None = None,
    prepare: Sequence[steps.Step] = steps.PREPARE,
    record: Sequence[steps.Step] = steps.RECORD,
) -> IngestResult:
    """Store one camera file and catalogue it; return once both are durable.

    `prepare` and `record` are the steps (overt.ingest.steps); tests pass their own
    lists to stop a request after any one of them.
    """
    ctx = steps.IngestContext(
        request=request,
        store=store or get_store(),
        actor=request.actor or Actor.system("ingest"),
        progress=progress,
    )
    for step in prepare:
        step(ctx)
        if ctx.result is not None:
            return ctx.result
    try:
        with transaction.atomic():
            for step in record:
                step(ctx)
    except IntegrityError:
        # Another ingest of the same bytes committed first: theirs is the record.
        assert ctx.stored is not None
        existing = Original.objects.filter(sha256=ctx.stored.sha256).first()
        if existing is None:
            raise
        return steps.record_duplicate(ctx, existing)
    assert ctx.original is not None, "the record steps catalogue the original"
    return steps.result_for(ctx.original, "stored")


def ingest_file(
    path: Path,
    *,
    officer_number: str | None,
    device_serial: str | None,
    sidecar: Sidecar | None = None,
    declared_sha256: str | None = None,
    source: str = Original.Source.CLI,
    actor: Actor | None = None,
    filename: str | None = None,
    store: EvidenceStore | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """`ingest` of a file and its sidecar (if any), as the command line and a dock
    folder have them; IngestError where the sidecar contradicts what was given."""
    request = from_sidecar(
        path,
        sidecar,
        officer_number=officer_number,
        device_serial=device_serial,
        declared_sha256=declared_sha256,
        source=source,
        actor=actor,
        filename=filename,
    )
    return ingest(request, store=store, progress=progress)
