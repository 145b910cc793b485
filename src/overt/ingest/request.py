"""What the ingest service is asked to take: one camera file and what its door knows
about it, typed, whichever door it came through (the command line, a dock folder, tus,
an Axis Body Worn System).

A door builds an `IngestRequest` and hands it to `overt.ingest.services.ingest`. The
sidecar file (`overt.sidecar/1`, overt.ingest.sidecar) stays the on-disk format that
docks and the command line use; `from_sidecar` reads one into a request. Nothing here
touches the database: checking the request against the catalogue is overt.ingest.prechecks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from overt.custody.services import Actor
from overt.evidence.models import Original

from .people import IngestError
from .sidecar import Sidecar, utc


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class TrackPoint:
    t: datetime
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Bookmark:
    """A moment the wearer marked, with what they said about it (a catalogue Marker)."""

    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Activation:
    """One press of the camera's record button: what keys the Recording that every clip
    of it shares (the device and `trigger_on_at`), and where it happened."""

    trigger_on_at: datetime
    trigger_off_at: datetime | None = None
    trigger_on_reason: str = ""
    trigger_off_reason: str = ""
    pre_event_seconds: int = 0
    incident: str = ""
    title: str = ""
    location: GeoPoint | None = None
    gps_track: tuple[TrackPoint, ...] = ()


@dataclass(frozen=True, slots=True)
class IngestRequest:
    """One file to ingest. Who, what, when, where and which door; every field but `path`
    is optional, and whatever is left out is decided by the ingest service (the officer
    from the device's assignment, the times from the container, the name from the path).
    """

    # what
    path: Path  # a regular file or a pipe, read once
    filename: str | None = None  # the name to catalogue; default: the path's own name
    declared_sha256: str | None = None  # the sender's hash; a mismatch stores nothing
    size: int | None = None  # the length the door was promised, when it was told one
    # who
    officer_number: str | None = None  # default: the device's wearer at capture time
    device_serial: str | None = None
    actor: Actor | None = None  # who delivered it (default: the system's ingest)
    # when
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    # where, and the rest of the activation
    activation: Activation | None = None
    markers: tuple[Bookmark, ...] = ()
    categories: tuple[str, ...] = ()
    # which door
    source: str = Original.Source.CLI
    # A finished, durable file the door owns and will not write again (a tus upload, a
    # staged Axis clip): the store adopts it (a hard link, or an upload with no spool)
    # instead of copying it, and the room it already takes on the disk is not asked for
    # again (issue 11 item 9). `received_sha256` was hashed as its bytes arrived.
    adopt: bool = False
    received_sha256: str | None = None
    # An overt camera agent's segment (issue 13): the SHA-256 of its signed manifest and
    # the device's id for the activation, which joins its segments into one Recording.
    capture_manifest: str | None = None
    capture_recording: str | None = None

    def __post_init__(self) -> None:
        if self.declared_sha256:  # a hash may be written in capitals; the store's are not
            object.__setattr__(self, "declared_sha256", self.declared_sha256.lower())


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What became of a request: the Original it is (new, or the one already holding
    these bytes)."""

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


def from_sidecar(
    path: Path,
    sidecar: Sidecar | None,
    *,
    officer_number: str | None = None,
    device_serial: str | None = None,
    declared_sha256: str | None = None,
    source: str = Original.Source.CLI,
    actor: Actor | None = None,
    filename: str | None = None,
    size: int | None = None,
) -> IngestRequest:
    """A request for `path` from what was given explicitly and what its sidecar says;
    IngestError where the two disagree (nothing is stored)."""
    if sidecar is None:
        return IngestRequest(
            path=path,
            filename=filename,
            declared_sha256=declared_sha256,
            size=size,
            officer_number=officer_number,
            device_serial=device_serial,
            actor=actor,
            source=source,
        )
    meta = sidecar.recording
    activation = None
    if meta is not None:
        activation = Activation(
            trigger_on_at=utc(meta.trigger_on_at),
            trigger_off_at=utc(meta.trigger_off_at) if meta.trigger_off_at else None,
            trigger_on_reason=meta.trigger_on_reason,
            trigger_off_reason=meta.trigger_off_reason,
            pre_event_seconds=meta.pre_event_seconds,
            incident=meta.incident,
            title=meta.title,
            location=GeoPoint(meta.location.lat, meta.location.lon) if meta.location else None,
            gps_track=tuple(TrackPoint(utc(p.t), p.lat, p.lon) for p in meta.gps_track),
        )
    return IngestRequest(
        path=path,
        filename=filename or sidecar.clip.filename,
        declared_sha256=agree("sha256", _lower(declared_sha256), sidecar.sha256),
        size=size,
        officer_number=agree("officer", officer_number, sidecar.officer),
        device_serial=agree("device", device_serial, sidecar.device),
        actor=actor,
        started_at=utc(sidecar.clip.started_at) if sidecar.clip.started_at else None,
        stopped_at=utc(sidecar.clip.stopped_at) if sidecar.clip.stopped_at else None,
        activation=activation,
        markers=tuple(Bookmark(utc(m.at), m.text) for m in sidecar.markers),
        categories=tuple(dict.fromkeys(sidecar.categories)),
        source=source,
    )


def agree(what: str, given: str | None, from_sidecar: str | None) -> str | None:
    """The one value of two sources that must not contradict each other."""
    if given and from_sidecar and given != from_sidecar:
        if what == "sha256":
            raise IngestError("the declared sha256 disagrees with the sidecar's")
        raise IngestError(f"{what} {given!r} disagrees with the sidecar's {from_sidecar!r}")
    return given or from_sidecar


def _lower(value: str | None) -> str | None:
    return value.lower() if value else value
