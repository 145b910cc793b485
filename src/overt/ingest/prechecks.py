"""The one pre-check every door runs before it keeps or stores a byte: the times are
possible, the officer and the device are registered (overt.ingest.people decides the
officer), a clip does not claim another officer's activation, its categories exist, and
the evidence store has room above the reserve.

The ingest service runs all of it (`check_request`, then `check_space`); tus runs
`admit` and `check_space` when an upload is created, so a client learns of a refusal
before it sends the bytes. Each refusal is a domain error (IngestError,
InsufficientSpace) that says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from overt.conf import get_settings
from overt.evidence.models import Category, Device, Officer, Recording
from overt.evidence.store import EvidenceStore, InsufficientSpace

from .people import IngestError, resolve_people
from .request import Activation, IngestRequest
from .times import CaptureTimeError, check_capture_time

log = logging.getLogger(__name__)


class UnknownCategory(IngestError):
    pass


class ImpossibleTime(IngestError, CaptureTimeError):
    """A time in the request is outside overt's range, or an end comes before its start.
    A CaptureTimeError too (a ValueError): the file, not the setup, is at fault."""


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request that passed the pre-check: who, and the categories it asked for."""

    officer: Officer
    device: Device
    categories: tuple[Category, ...]


def check_request(request: IngestRequest, capture_time: Callable[[], datetime]) -> Admitted:
    """Everything but room in the store; IngestError before anything is stored.
    `capture_time` is asked only when the device's assignment must name the officer."""
    check_times(request)
    officer, device = resolve_people(request.officer_number, request.device_serial, capture_time)
    check_activation_owner(request.activation, officer, device)
    return Admitted(officer, device, resolve_categories(request.categories))


def admit(
    officer_number: str | None,
    device_serial: str | None,
    capture_time: Callable[[], datetime],
) -> tuple[Officer, Device]:
    """The check at a door that takes the bytes later (a tus upload's creation), so a
    client learns of a refusal before it sends them: the people, by the rule the service
    applies again when the bytes have come. (Room: `check_space`, with the door's own.)"""
    return resolve_people(officer_number, device_serial, capture_time)


def check_times(request: IngestRequest) -> None:
    """Every time the request carries, by the one rule of overt.ingest.times. The doors
    check these as they read them; this holds the service to it whichever door it was."""
    for what, when in _times(request):
        try:
            check_capture_time(when, what)
        except CaptureTimeError as exc:
            raise ImpossibleTime(str(exc)) from exc
    if request.started_at and request.stopped_at and request.stopped_at < request.started_at:
        raise ImpossibleTime("the clip's stop time is before its start time")
    activation = request.activation
    if activation and activation.trigger_off_at and (
        activation.trigger_off_at < activation.trigger_on_at
    ):
        raise ImpossibleTime("trigger_off_at is before trigger_on_at")


def _times(request: IngestRequest) -> Iterator[tuple[str, datetime]]:
    if request.started_at:
        yield "the clip's start time", request.started_at
    if request.stopped_at:
        yield "the clip's stop time", request.stopped_at
    if request.activation:
        yield "trigger_on_at", request.activation.trigger_on_at
        if request.activation.trigger_off_at:
            yield "trigger_off_at", request.activation.trigger_off_at
        for point in request.activation.gps_track:
            yield "a track point's time", point.t
    for marker in request.markers:
        yield "a marker's time", marker.at


def check_activation_owner(activation: Activation | None, officer: Officer, device: Device) -> None:
    """A clip of an activation already catalogued must be the same officer's."""
    if activation is None:
        return
    recording = Recording.objects.filter(
        device=device, trigger_on_at=activation.trigger_on_at
    ).first()
    check_recording_owner(recording, officer)


def check_recording_owner(recording: Recording | None, officer: Officer) -> None:
    if recording is not None and recording.officer_id != officer.pk:
        raise IngestError(
            f"recording {recording.pk} from device {recording.device.serial} at "
            f"{recording.trigger_on_at.isoformat()} belongs to officer "
            f"{recording.officer.number}, not {officer.number}"
        )


def resolve_categories(names: tuple[str, ...]) -> tuple[Category, ...]:
    """The named categories, all known, or UnknownCategory before anything is stored."""
    names = tuple(dict.fromkeys(names))
    if not names:
        return ()
    found = {c.name: c for c in Category.objects.filter(name__in=names)}
    unknown = [n for n in names if n not in found]
    if unknown:
        known = ", ".join(Category.objects.values_list("name", flat=True)) or "none yet"
        raise UnknownCategory(
            f"unknown categor{'y' if len(unknown) == 1 else 'ies'} "
            f"{', '.join(repr(n) for n in unknown)} in the sidecar (known: {known}); "
            "nothing was stored"
        )
    return tuple(found[n] for n in names)


def check_space(store: EvidenceStore, size: int, *, warn: bool = True) -> None:
    """InsufficientSpace (507) unless `size` more bytes leave the reserve free."""
    free = store.free_bytes()
    if free is None:
        return
    needed = size + get_settings().min_free_bytes
    if needed > free:
        raise InsufficientSpace(needed, free)
    if warn and free - size < get_settings().disk_warning_free_bytes:
        log.warning(
            "disk pressure: %d bytes free in the evidence store after this ingest, below "
            "OVERT_DISK_WARNING_FREE_BYTES; add space before ingest is refused",
            free - size,
        )
