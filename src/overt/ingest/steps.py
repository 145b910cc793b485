"""The steps of one ingest, in order, each a small function of an `IngestContext` that
reads what the steps before it learnt and adds what it learns.

    PREPARE  examine the source, check the request (times, people, activation,
             categories), name the file, check room, store the bytes, find a
             duplicate, probe the stored bytes
    RECORD   catalogue (Recording, Original, markers), custody entry, categories,
             derivative jobs: all in one transaction (overt.ingest.services runs it)

What a failure leaves: before `store_bytes`, nothing; after it, the object alone, which is
the documented order (bytes before the row; an unreferenced object is harmless and found
again by the next ingest of the same bytes, and a write-once store never deletes it). A
failure in any RECORD step rolls the whole transaction back: never a row without its
custody entry or its jobs. A step that sets `ctx.result` ends the request there.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from django.db import transaction

from overt.conf import get_settings
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Incident, Marker, Original, Recording
from overt.evidence.store import EvidenceStore, HashMismatch, StoredObject
from overt.media.pipeline import schedule_derivatives
from overt.media.probe import VideoInfo, probe
from overt.metrics import BYTES_INGESTED, ORIGINALS_INGESTED

from . import capture as capture_rules
from . import prechecks
from .locks import lock_activations_of
from .people import IngestError
from .request import IngestRequest, IngestResult
from .sidecar import safe_name
from .times import CaptureTimeError, check_capture_time, time_from_filename

log = logging.getLogger(__name__)


@dataclass
class IngestContext:
    """One request on its way through the steps."""

    request: IngestRequest
    store: EvidenceStore
    actor: Actor
    progress: Callable[[int], None] | None = None
    size: int = 0  # of the source, as it was found
    regular: bool = False  # a regular file (may be read twice), not a pipe
    early: VideoInfo | None = None  # the source probed before storing, only to pick the officer
    admitted: prechecks.Admitted | None = None
    filename: str = ""
    stored: StoredObject | None = None
    info: VideoInfo | None = None  # the stored bytes, probed
    original: Original | None = None
    result: IngestResult | None = None  # set by a step that ends the request early
    capture: dict[str, object] | None = None  # a camera agent's segment: its verdict
    capture_change: capture_rules.Change | None = None

    def delivery(self) -> dict[str, object]:
        """Who delivered what, through which door: the custody entry's details."""
        assert self.stored is not None and self.admitted is not None
        return {
            "size": self.stored.size,
            "filename": self.filename,
            "source": self.request.source,
            "officer": self.admitted.officer.number,
            "device": self.admitted.device.serial,
        }


Step = Callable[[IngestContext], None]


# --- PREPARE ----------------------------------------------------------------------------


def examine_source(ctx: IngestContext) -> None:
    """The source's size, and whether it is a regular file; IngestError for anything that
    is not a file or a pipe (a directory, a device such as /dev/zero, a socket), or a file
    of another length than its door was promised."""
    path = ctx.request.path
    try:
        info = path.stat()
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc.strerror}") from exc
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise IngestError(
            f"{path} is a directory: name the files in it (e.g. {path}/*), or take the "
            f"whole folder with `overt watch {path} --once`"
        )
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise IngestError(f"{path} is not a regular file or a pipe")
    ctx.size, ctx.regular = info.st_size, stat.S_ISREG(mode)
    expected = ctx.request.size
    if ctx.regular and expected is not None and expected != ctx.size:
        raise IngestError(f"{path} is {ctx.size} bytes, not the {expected} it was sent as")


def check_request(ctx: IngestContext) -> None:
    """The one pre-check (overt.ingest.prechecks), before anything is stored."""
    ctx.admitted = prechecks.check_request(ctx.request, lambda: capture_time(ctx))


def name_file(ctx: IngestContext) -> None:
    """The catalogue's file name: the door's, else the path's; a plain name or ValueError."""
    ctx.filename = safe_name(ctx.request.filename or ctx.request.path.name, "filename")


def check_space(ctx: IngestContext) -> None:
    needed = ctx.size
    if ctx.request.adopt:  # a link takes no more room; a copy across disks takes it all
        try:
            needed = ctx.store.room_to_adopt(ctx.request.path)
        except OSError:
            pass  # gone: storing it says so
    prechecks.check_space(ctx.store, needed)


def store_bytes(ctx: IngestContext) -> None:
    """Read the bytes once, hash them, and make them durable (or adopt a finished file);
    HashMismatch (nothing stored) when they are not the declared ones."""
    request = ctx.request
    if not request.adopt:
        ctx.stored = ctx.store.put_file(
            request.path, expected_sha256=request.declared_sha256, progress=ctx.progress
        )
        return
    received, declared = request.received_sha256, request.declared_sha256
    if received and declared and received != declared:
        raise HashMismatch(declared, received)
    ctx.stored = ctx.store.adopt(
        request.path, expected_sha256=received or declared, hashed=bool(received)
    )
    if ctx.progress is not None:
        ctx.progress(ctx.stored.size)


def find_duplicate(ctx: IngestContext) -> None:
    """Known bytes again: nothing new is catalogued, but the delivery leaves its trace."""
    assert ctx.stored is not None
    existing = Original.objects.filter(sha256=ctx.stored.sha256).first()
    if existing is not None:
        ctx.result = record_duplicate(ctx, existing)


def probe_stored(ctx: IngestContext) -> None:
    """Probed again even if probed early: the stored bytes, not the source, are the record."""
    assert ctx.stored is not None
    ctx.info = probe(ctx.store.local_path(ctx.stored.sha256) or ctx.request.path)


# --- RECORD (one transaction) -----------------------------------------------------------


def catalogue(ctx: IngestContext) -> None:
    """The Original, in its Recording (found or made), with the request's markers."""
    assert ctx.stored is not None and ctx.info is not None and ctx.admitted is not None
    request, info, device = ctx.request, ctx.info, ctx.admitted.device
    started_at = clip_start(request, info)
    stopped_at = request.stopped_at
    if stopped_at is None and info.duration_s:
        try:
            stopped_at = started_at + timedelta(seconds=info.duration_s)
        except OverflowError:  # a container claiming an absurd duration
            stopped_at = None
    recording = recording_for(ctx, started_at, stopped_at)
    ctx.original = Original.objects.create(
        sha256=ctx.stored.sha256,
        size=ctx.stored.size,
        recording=recording,
        filename=ctx.filename,
        source=request.source,
        container=info.container or "",
        video_codec=info.video_codec or "",
        audio_codec=info.audio_codec or "",
        duration_s=info.duration_s,
        width=info.width,
        height=info.height,
        fps=info.fps,
        started_at=started_at,
        stopped_at=stopped_at,
        playable=info.playable,
        problem=info.problem or "",
        media_info=info.to_json(),
    )
    Marker.objects.bulk_create(
        Marker(recording=recording, at=m.at, text=m.text, created_by=str(device))
        for m in request.markers
    )


def record_custody(ctx: IngestContext) -> None:
    original = _original(ctx)
    assert ctx.info is not None
    record(
        "ingest",
        ctx.actor,
        Subject(original.sha256, {"original": original.pk, "recording": original.recording_id}),
        details={
            **ctx.delivery(),
            "playable": ctx.info.playable,
            **({"capture": ctx.capture} if ctx.capture else {}),
        },
    )


def categorise(ctx: IngestContext) -> None:
    """The request's categories on the recording, with a category-change entry."""
    assert ctx.admitted is not None
    if not ctx.admitted.categories:
        return
    original = _original(ctx)
    recording = original.recording
    before = sorted(recording.categories.values_list("name", flat=True))
    recording.categories.add(*ctx.admitted.categories)
    after = sorted(recording.categories.values_list("name", flat=True))
    if after != before:
        record(
            "category-change",
            ctx.actor,
            Subject(original.sha256, {"original": original.pk, "recording": recording.pk}),
            details={
                "recording": recording.pk,
                "before": before,
                "after": after,
                "from": "sidecar",
            },
        )


def schedule_jobs(ctx: IngestContext) -> None:
    """Job rows commit with the original, so no crash can lose its derivatives."""
    original = _original(ctx)
    if original.playable:
        schedule_derivatives(original)
    transaction.on_commit(lambda: _count(original))


PREPARE: tuple[Step, ...] = (
    examine_source,
    check_request,
    name_file,
    check_space,
    store_bytes,
    find_duplicate,
    probe_stored,
)
RECORD: tuple[Step, ...] = (
    catalogue,
    capture_rules.verify_step,
    record_custody,
    capture_rules.change_step,
    categorise,
    schedule_jobs,
)


# --- helpers ----------------------------------------------------------------------------


def record_duplicate(ctx: IngestContext, existing: Original) -> IngestResult:
    with transaction.atomic():
        record(
            "ingest",
            ctx.actor,
            Subject(existing.sha256, {"original": existing.pk, "recording": existing.recording_id}),
            details={**ctx.delivery(), "duplicate": True},
        )
    return result_for(existing, "duplicate")


def result_for(original: Original, status: str) -> IngestResult:
    return IngestResult(
        id=original.pk,
        recording_id=original.recording_id,
        sha256=original.sha256,
        size=original.size,
        status=status,
        playable=original.playable,
        problem=original.problem,
        filename=original.filename,
    )


def capture_time(ctx: IngestContext) -> datetime:
    """When the clip began, before it is stored (for the device's assignment). Only a
    regular file may be probed before storing: a pipe is read once."""
    if ctx.regular and ctx.early is None:
        ctx.early = probe(ctx.request.path)
    return clip_start(ctx.request, ctx.early)


def _local_zone() -> tzinfo:
    """The instance's time zone: the one its cameras' file names are written in."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(get_settings().time_zone)


def clip_start(request: IngestRequest, info: VideoInfo | None) -> datetime:
    """The door's start time, else the activation's, else the container's, else the time
    in the file's name (a corrupt clip has no readable container), else the file's own
    modification time (which a dock copy or an upload resets; better than none)."""
    if request.started_at:
        return request.started_at
    if request.activation:
        return request.activation.trigger_on_at
    if info and info.creation_time:
        try:  # a container's clock can be as wrong as any camera's
            return check_capture_time(info.creation_time, "the container's creation time")
        except CaptureTimeError as exc:
            log.warning(
                "%s: %s; using the file's name or modification time", request.path.name, exc
            )
    named = time_from_filename(request.filename or request.path.name, _local_zone())
    if named is not None:
        return named
    try:
        return datetime.fromtimestamp(os.stat(request.path).st_mtime, UTC)
    except (OSError, OverflowError, ValueError):
        return datetime.now(UTC)


def recording_for(
    ctx: IngestContext, started_at: datetime, stopped_at: datetime | None
) -> Recording:
    """Clips of one activation share a Recording, keyed by device and trigger-on time.
    Only an activation identifies one; a file without is its own recording."""
    assert ctx.admitted is not None
    officer, device = ctx.admitted.officer, ctx.admitted.device
    lock_activations_of(device.pk)  # one recording per activation, whoever comes first
    if ctx.request.capture_recording:  # a camera agent's segment: one recording per id
        return capture_rules.recording_for(
            device, officer, ctx.request.capture_recording, started_at, stopped_at
        )
    meta = ctx.request.activation
    trigger_on = meta.trigger_on_at if meta else started_at
    recording = (
        Recording.objects.select_for_update()
        .filter(device=device, trigger_on_at=trigger_on)
        .first()
        if meta
        else None
    )
    if recording is None:
        incident = None
        if meta and meta.incident:
            incident, _ = Incident.objects.get_or_create(
                reference=meta.incident, defaults={"occurred_at": trigger_on}
            )
        return Recording.objects.create(
            device=device,
            officer=officer,
            incident=incident,
            title=(meta.title if meta else "") or f"{officer.number} {device.serial}",
            trigger_on_at=trigger_on,
            trigger_off_at=meta.trigger_off_at if meta and meta.trigger_off_at else stopped_at,
            trigger_on_reason=meta.trigger_on_reason if meta else "",
            trigger_off_reason=meta.trigger_off_reason if meta else "",
            pre_event_seconds=meta.pre_event_seconds if meta else 0,
            start_latitude=meta.location.lat if meta and meta.location else None,
            start_longitude=meta.location.lon if meta and meta.location else None,
            gps_track=[
                {"t": p.t.astimezone(UTC).isoformat(), "lat": p.lat, "lon": p.lon}
                for p in (meta.gps_track if meta else ())
            ],
        )
    if recording.officer_id != officer.pk:
        prechecks.check_recording_owner(recording, officer)
    elif stopped_at and (recording.trigger_off_at is None or stopped_at > recording.trigger_off_at):
        if not (meta and meta.trigger_off_at):
            recording.trigger_off_at = stopped_at
            recording.save(update_fields=["trigger_off_at"])
    return recording


def _original(ctx: IngestContext) -> Original:
    assert ctx.original is not None, "catalogue runs first"
    return ctx.original


def _count(original: Original) -> None:
    BYTES_INGESTED.inc(original.size)
    ORIGINALS_INGESTED.labels(playable=str(original.playable).lower()).inc()
