"""The hand-off to ingest: a recording container whose Status became Complete turns into
one overt Recording, every clip through the ingest service byte for byte, with the
bookmarks as markers and the GNSS track as its location track."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from django.utils import timezone

from overt.custody.services import Actor
from overt.errors import DomainError, NoSpace
from overt.evidence.models import Original
from overt.evidence.store import HashMismatch, InsufficientSpace, StoreError
from overt.ingest import prechecks
from overt.ingest.request import Activation, Bookmark, GeoPoint, IngestRequest, TrackPoint
from overt.ingest.services import IngestError, ingest
from overt.ingest.sidecar import safe_name
from overt.ingest.times import MIN_CAPTURE_TIME

from .. import storage
from ..errors import RecordingRefused, StoreUnavailable
from ..models import AxisContainer, AxisObject
from . import metadata
from .people import officer_for_user

log = logging.getLogger(__name__)


def maybe_complete(container: AxisContainer) -> None:
    if (
        container.kind == AxisContainer.Kind.RECORDING
        and container.status == AxisContainer.Status.OPEN
        and container.metadata.get("status", "").strip().lower() == "complete"
    ):
        complete_recording(container.pk)


def complete_recording(container_pk: int) -> None:
    """Turn a complete recording container into one overt Recording.

    Clips go through the ingest service one by one (each already ingested is skipped, so
    a retry carries on where a failure stopped). 400 when it can never be stored.
    """
    container = AxisContainer.objects.get(pk=container_pk)
    meta = container.metadata
    if "userid" not in meta or "bwcserialnumber" not in meta:
        _fail(container, "the recording's metadata lacks UserID or BWCSerialNumber")
    try:
        officer = officer_for_user(meta["userid"])
        serial = meta["bwcserialnumber"]
        trigger_on, trigger_off = metadata.trigger_times(meta)
        # The ingest service's pre-check, before any clip: the same rule as every door.
        prechecks.admit(officer.number, serial, lambda: trigger_on or timezone.now())
    except DomainError as exc:  # unknown people, impossible times, the pre-check
        _fail(container, exc.detail)
    objects = list(container.items.all())
    clips = sorted(
        (o for o in objects if o.kind == AxisObject.Kind.CLIP),
        key=lambda o: (metadata.clip_time(o, "start") or MIN_CAPTURE_TIME, o.name),
    )
    if not clips:
        _fail(container, "the recording has no clips")
    if trigger_on is None:
        trigger_on = metadata.clip_time(clips[0], "start")
    if trigger_on is None:
        _fail(container, "the recording has no TriggerOnTime and its clips no StartTime")
    markers: list[dict[str, Any]] = []
    track: list[dict[str, Any]] = []
    try:
        for obj in objects:
            if obj.kind == AxisObject.Kind.BOOKMARK:
                markers.append(metadata.marker(obj, trigger_on))
            elif obj.kind == AxisObject.Kind.GNSS:
                track.extend(metadata.gnss_track(bytes(obj.content or b""), obj.name))
    except DomainError as exc:
        _fail(container, exc.detail)
    location = metadata.location(meta.get("triggeronlocation", ""))
    activation = Activation(
        trigger_on_at=trigger_on,
        trigger_off_at=trigger_off,
        trigger_on_reason=meta.get("triggeron", "")[:64].strip(),
        trigger_off_reason=meta.get("triggeroff", "")[:64].strip(),
        location=GeoPoint(location["lat"], location["lon"]) if location else None,
        gps_track=tuple(
            sorted(
                (TrackPoint(datetime.fromisoformat(p["t"]), p["lat"], p["lon"]) for p in track),
                key=lambda p: p.t,
            )
        ),
    )
    bookmarks = tuple(Bookmark(datetime.fromisoformat(m["at"]), m["text"]) for m in markers)
    actor = Actor("device", serial)
    recording_id = None
    for index, obj in enumerate(clips):
        if obj.original_id:
            recording_id = Original.objects.get(pk=obj.original_id).recording_id
            continue
        path = Path(obj.staged_path)
        request = IngestRequest(
            path=path,
            filename=_plain(obj.name),
            declared_sha256=obj.sha256,
            officer_number=officer.number,
            device_serial=serial,
            actor=actor,
            started_at=metadata.clip_time(obj, "start"),
            stopped_at=metadata.clip_time(obj, "stop"),
            activation=activation,
            markers=bookmarks if index == 0 else (),
            source=Original.Source.UPLOAD,
            adopt=True,
            received_sha256=obj.sha256,
        )
        try:
            result = ingest(request)
        except InsufficientSpace as exc:
            raise NoSpace(str(exc)) from exc
        except (IngestError, HashMismatch) as exc:
            _fail(container, f"clip {obj.name}: {exc}")
        except (StoreError, OSError) as exc:
            raise StoreUnavailable(
                f"the evidence store failed ({exc}); retry", retry_after=30
            ) from exc
        obj.original_id = result.id
        obj.save(update_fields=["original", "updated_at"])
        storage.remove(path)
        recording_id = result.recording_id
    AxisContainer.objects.filter(pk=container.pk).update(
        status=AxisContainer.Status.COMPLETE,
        recording_id=recording_id,
        completed_at=timezone.now(),
        problem="",
    )
    log.info("Axis recording %s catalogued as recording %s", container.name, recording_id)


def _fail(container: AxisContainer, reason: str) -> NoReturn:
    """Refuse a complete recording for good (400): it stays, with its staged clips."""
    AxisContainer.objects.filter(pk=container.pk).update(
        status=AxisContainer.Status.FAILED, problem=reason, completed_at=timezone.now()
    )
    log.warning("Axis recording %s refused: %s", container.name, reason)
    raise RecordingRefused(f"recording {container.name} cannot be stored: {reason}")


def _plain(name: str) -> str:
    try:
        return safe_name(name.rsplit("/", 1)[-1], "clip name")
    except ValueError:
        return "clip"
