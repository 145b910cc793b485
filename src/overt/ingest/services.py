"""The ingest service: the one entry point every way of delivering footage calls.

Order matters. The bytes are read once, hashed and made durable in the store
first; only then is the catalogue row written, with its custody entry, in one
transaction. A crash between the two leaves an unreferenced object (harmless, and
re-ingest finds it) but never a catalogue row without its complete object.
Known bytes arriving again are not stored twice, but the delivery is still recorded: a
custody `ingest` entry marked `duplicate`, naming who, which camera and which door.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import IntegrityError, transaction

from overt.conf import get_settings
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import (
    Category,
    Device,
    Incident,
    Marker,
    Officer,
    Original,
    Recording,
)
from overt.evidence.store import EvidenceStore, InsufficientSpace, get_store
from overt.media.pipeline import schedule_derivatives
from overt.media.probe import VideoInfo, probe
from overt.metrics import BYTES_INGESTED, ORIGINALS_INGESTED

from .people import IngestError, UnknownDevice, UnknownOfficer, resolve_people
from .sidecar import Sidecar, safe_name, utc
from .times import CaptureTimeError, check_capture_time

log = logging.getLogger(__name__)
# IngestError and friends live in .people and are re-exported here, where callers look.
__all__ = [
    "IngestError",
    "IngestResult",
    "UnknownCategory",
    "UnknownDevice",
    "UnknownOfficer",
    "ingest_file",
]


class UnknownCategory(IngestError):
    pass


@dataclass(frozen=True, slots=True)
class IngestResult:
    id: int
    recording_id: int
    sha256: str
    size: int
    status: str  # "stored" or "duplicate"
    playable: bool
    problem: str
    filename: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "recording_id": self.recording_id,
            "sha256": self.sha256,
            "size": self.size,
            "status": self.status,
            "playable": self.playable,
            "problem": self.problem,
            "filename": self.filename,
        }


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
    """Store one camera file and catalogue it; return once both are durable."""
    store = store or get_store()
    actor = actor or Actor.system("ingest")
    size, regular = _source(path)
    early: list[VideoInfo] = []

    def capture_time() -> datetime:
        # Only a regular file may be probed before storing: a pipe is read once.
        if regular and not early:
            early.append(probe(path))
        return _clip_start(sidecar, early[0] if early else None, path)

    officer, device = resolve_people(officer_number, device_serial, sidecar, capture_time)
    if sidecar and sidecar.recording:  # refuse before storing, not after
        _check_activation_owner(
            Recording.objects.filter(
                device=device, trigger_on_at=utc(sidecar.recording.trigger_on_at)
            ).first(),
            officer,
        )
    categories = _resolve_categories(sidecar)
    declared = _declared_hash(declared_sha256, sidecar)
    name = safe_name(
        filename or (sidecar.clip.filename if sidecar else None) or path.name, "filename"
    )
    _check_space(store, size)

    stored = store.put_file(path, expected_sha256=declared, progress=progress)
    delivery = {
        "size": stored.size,
        "filename": name,
        "source": source,
        "officer": officer.number,
        "device": device.serial,
    }
    existing = Original.objects.filter(sha256=stored.sha256).first()
    if existing is not None:
        return _duplicate(existing, actor, delivery)

    # Probed again even if probed early: the stored bytes, not the source, are the record.
    info = probe(store.local_path(stored.sha256) or path)
    try:
        with transaction.atomic():
            original = _catalogue(
                stored.sha256, stored.size, name, source, officer, device, sidecar, info, path
            )
            record(
                "ingest",
                actor,
                Subject(
                    original.sha256, {"original": original.pk, "recording": original.recording_id}
                ),
                details={**delivery, "playable": info.playable},
            )
            if categories:
                _categorise(original, categories, actor)
            if original.playable:
                # Job rows commit with the original, so no crash can lose its derivatives.
                schedule_derivatives(original)
            transaction.on_commit(lambda: _count(original))
    except IntegrityError:
        # Another ingest of the same bytes committed first: theirs is the record.
        existing = Original.objects.filter(sha256=stored.sha256).first()
        if existing is None:
            raise
        return _duplicate(existing, actor, delivery)
    return _result(original, "stored")


def _source(path: Path) -> tuple[int, bool]:
    """The file's size, and whether it is a regular file; IngestError for anything that
    is not a file or a pipe (a directory, a device such as /dev/zero, a socket)."""
    try:
        info = path.stat()
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc.strerror}") from exc
    mode, size = info.st_mode, info.st_size
    if stat.S_ISDIR(mode):
        raise IngestError(
            f"{path} is a directory: name the files in it (e.g. {path}/*), or take the "
            f"whole folder with `overt watch {path} --once`"
        )
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise IngestError(f"{path} is not a regular file or a pipe")
    return size, stat.S_ISREG(mode)


def _duplicate(existing: Original, actor: Actor, delivery: dict[str, object]) -> IngestResult:
    """Known bytes came again: nothing new is stored, but the delivery leaves its trace."""
    with transaction.atomic():
        record(
            "ingest",
            actor,
            Subject(existing.sha256, {"original": existing.pk, "recording": existing.recording_id}),
            details={**delivery, "duplicate": True},
        )
    return _result(existing, "duplicate")


def _resolve_categories(sidecar: Sidecar | None) -> list[Category]:
    """The sidecar's categories, all known, or IngestError before anything is stored."""
    names = list(dict.fromkeys(sidecar.categories)) if sidecar else []
    if not names:
        return []
    found = {c.name: c for c in Category.objects.filter(name__in=names)}
    unknown = [n for n in names if n not in found]
    if unknown:
        known = ", ".join(Category.objects.values_list("name", flat=True)) or "none yet"
        raise UnknownCategory(
            f"unknown categor{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(repr(n) for n in unknown)} in the sidecar (known: {known}); "
            "nothing was stored"
        )
    return [found[n] for n in names]


def _categorise(original: Original, categories: list[Category], actor: Actor) -> None:
    recording = original.recording
    before = sorted(recording.categories.values_list("name", flat=True))
    recording.categories.add(*categories)
    after = sorted(recording.categories.values_list("name", flat=True))
    if after != before:
        record(
            "category-change",
            actor,
            Subject(original.sha256, {"original": original.pk, "recording": recording.pk}),
            details={
                "recording": recording.pk,
                "before": before,
                "after": after,
                "from": "sidecar",
            },
        )


def _declared_hash(declared: str | None, sidecar: Sidecar | None) -> str | None:
    from_sidecar = sidecar.sha256 if sidecar else None
    if declared:
        declared = declared.lower()
    if declared and from_sidecar and declared != from_sidecar:
        raise IngestError("the declared sha256 disagrees with the sidecar's")
    return declared or from_sidecar


def _check_space(store: EvidenceStore, size: int) -> None:
    free = store.free_bytes()
    if free is None:
        return
    needed = size + get_settings().min_free_bytes
    if needed > free:
        raise InsufficientSpace(needed, free)
    if free - size < get_settings().disk_warning_free_bytes:
        log.warning(
            "disk pressure: %d bytes free in the evidence store after this ingest, below "
            "OVERT_DISK_WARNING_FREE_BYTES; add space before ingest is refused",
            free - size,
        )


def _catalogue(
    sha256: str,
    size: int,
    name: str,
    source: str,
    officer: Officer,
    device: Device,
    sidecar: Sidecar | None,
    info: VideoInfo,
    path: Path,
) -> Original:
    started_at = _clip_start(sidecar, info, path)
    stopped_at = None
    if sidecar and sidecar.clip.stopped_at:
        stopped_at = utc(sidecar.clip.stopped_at)
    elif started_at and info.duration_s:
        try:
            stopped_at = started_at + timedelta(seconds=info.duration_s)
        except OverflowError:  # a container claiming an absurd duration
            stopped_at = None
    recording = _recording_for(officer, device, sidecar, started_at, stopped_at)
    original = Original.objects.create(
        sha256=sha256,
        size=size,
        recording=recording,
        filename=name,
        source=source,
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
    if sidecar:
        Marker.objects.bulk_create(
            Marker(recording=recording, at=utc(m.at), text=m.text, created_by=str(device))
            for m in sidecar.markers
        )
    return original


def _clip_start(sidecar: Sidecar | None, info: VideoInfo | None, path: Path) -> datetime:
    if sidecar and sidecar.clip.started_at:
        return utc(sidecar.clip.started_at)
    if sidecar and sidecar.recording:
        return utc(sidecar.recording.trigger_on_at)
    if info and info.creation_time:
        try:  # a container's clock can be as wrong as any camera's
            return check_capture_time(info.creation_time, "the container's creation time")
        except CaptureTimeError as exc:
            log.warning("%s: %s; using the file's modification time", path.name, exc)
    # Last resort: the file's own time, which a dock copy may have reset. Better than none.
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    except (OSError, OverflowError, ValueError):
        return datetime.now(UTC)


def _recording_for(
    officer: Officer,
    device: Device,
    sidecar: Sidecar | None,
    started_at: datetime,
    stopped_at: datetime | None,
) -> Recording:
    """Clips of one activation share a Recording, keyed by device and trigger-on time."""
    meta = sidecar.recording if sidecar else None
    trigger_on = utc(meta.trigger_on_at) if meta else started_at
    # Only a sidecar's trigger time identifies an activation; a bare file is its own.
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
        recording = Recording.objects.create(
            device=device,
            officer=officer,
            incident=incident,
            title=(meta.title if meta else "") or f"{officer.number} {device.serial}",
            trigger_on_at=trigger_on,
            trigger_off_at=utc(meta.trigger_off_at) if meta and meta.trigger_off_at else stopped_at,
            trigger_on_reason=meta.trigger_on_reason if meta else "",
            trigger_off_reason=meta.trigger_off_reason if meta else "",
            pre_event_seconds=meta.pre_event_seconds if meta else 0,
            start_latitude=meta.location.lat if meta and meta.location else None,
            start_longitude=meta.location.lon if meta and meta.location else None,
            gps_track=[
                {"t": p.t.astimezone(UTC).isoformat(), "lat": p.lat, "lon": p.lon}
                for p in (meta.gps_track if meta else [])
            ],
        )
    elif recording.officer_id != officer.pk:
        _check_activation_owner(recording, officer)
    elif stopped_at and (recording.trigger_off_at is None or stopped_at > recording.trigger_off_at):
        if not (meta and meta.trigger_off_at):
            recording.trigger_off_at = stopped_at
            recording.save(update_fields=["trigger_off_at"])
    return recording


def _check_activation_owner(recording: Recording | None, officer: Officer) -> None:
    if recording is not None and recording.officer_id != officer.pk:
        raise IngestError(
            f"recording {recording.pk} from device {recording.device.serial} at "
            f"{recording.trigger_on_at.isoformat()} belongs to officer "
            f"{recording.officer.number}, not {officer.number}"
        )


def _count(original: Original) -> None:
    BYTES_INGESTED.inc(original.size)
    ORIGINALS_INGESTED.labels(playable=str(original.playable).lower()).inc()


def _result(original: Original, status: str) -> IngestResult:
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
