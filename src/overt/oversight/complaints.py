"""Complaints: register, propose matching footage, link it (a complaint hold, placed by the
retention service in the same transaction), close with the outcome (the holds released),
and the figures: how many had footage, and how long they took with and without.

Every step is a `complaint` custody entry; linking and closing also write the retention
service's own hold-set and hold-release entries on each original of the recording.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from overt import errors
from overt.custody.services import Actor, record
from overt.evidence.models import Recording
from overt.retention.services import release_hold, set_hold

from .compliance import recordings_by_officer, thresholds
from .contract import invisible, parse_time, unprintable
from .models import Complaint, ComplaintLink
from .rules import matches


class ComplaintError(errors.DomainError):
    pass


class ComplaintInvalid(errors.Invalid, ComplaintError):
    pass


class ComplaintNotFound(errors.NotFound, ComplaintError):
    pass


class ComplaintConflict(errors.Conflict, ComplaintError):
    pass


@dataclass(frozen=True)
class NewComplaint:
    reference: str
    received_on: date
    occurred_from: datetime
    occurred_to: datetime
    officers: tuple[str, ...]
    latitude: float | None = None
    longitude: float | None = None
    borough: str = ""
    summary: str = ""


def new_complaint(data: dict[str, Any]) -> NewComplaint:
    """From the API's or the form's fields; a bad one is named."""
    reference = str(data.get("reference") or "").strip()
    if not reference or len(reference) > 64:
        raise ComplaintInvalid("a reference of 1 to 64 characters is needed", field="reference")
    for name in ("reference", "borough", "summary", "officers"):
        _printable(name, data.get(name), lines=name == "summary")
    try:
        received = date.fromisoformat(str(data.get("received_on") or ""))
    except ValueError:
        raise ComplaintInvalid("a date such as 2026-11-20", field="received_on") from None
    times = {}
    for name in ("occurred_from", "occurred_to"):
        value = parse_time(str(data.get(name) or ""))
        if value is None:
            raise ComplaintInvalid("an RFC 3339 time with an offset", field=name)
        times[name] = value
    if times["occurred_to"] < times["occurred_from"]:
        raise ComplaintInvalid("is before occurred_from", field="occurred_to")
    officers = data.get("officers") or []
    if isinstance(officers, str):
        officers = [o for o in officers.replace(",", " ").split() if o]
    if not isinstance(officers, list) or not all(isinstance(o, str) for o in officers):
        raise ComplaintInvalid("a list of officer numbers", field="officers")
    lat, lon = data.get("latitude"), data.get("longitude")
    place: list[float | None] = [None, None]
    if lat not in (None, "") or lon not in (None, ""):
        try:
            place = [float(lat), float(lon)]  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ComplaintInvalid(
                "latitude and longitude, both numbers", field="latitude"
            ) from None
        if not (-90 <= place[0] <= 90 and -180 <= place[1] <= 180):  # type: ignore[operator]
            raise ComplaintInvalid("latitude or longitude out of range", field="latitude")
    return NewComplaint(
        reference=reference,
        received_on=received,
        occurred_from=times["occurred_from"],
        occurred_to=times["occurred_to"],
        officers=tuple(dict.fromkeys(o.strip() for o in officers if o.strip())),
        latitude=place[0],
        longitude=place[1],
        borough=str(data.get("borough") or "")[:100],
        summary=str(data.get("summary") or ""),
    )


def _printable(name: str, value: object, *, lines: bool) -> None:
    """Refuse control characters, lone surrogates (which no database can store: they
    were a 500) and bidi overrides; a summary may hold line breaks and tabs."""
    texts = value if isinstance(value, list) else [value]
    for text in texts:
        if isinstance(text, str) and any(
            unprintable(c) and not (lines and c in "\n\r\t") for c in text
        ):
            raise ComplaintInvalid("holds a control character", field=name)
        if isinstance(text, str) and not lines and any(invisible(c) for c in text):
            raise ComplaintInvalid("holds an invisible formatting character", field=name)


def register(new: NewComplaint, *, actor: Actor) -> Complaint:
    try:
        with transaction.atomic():
            complaint = Complaint.objects.create(
                reference=new.reference,
                received_on=new.received_on,
                occurred_from=new.occurred_from,
                occurred_to=new.occurred_to,
                latitude=new.latitude,
                longitude=new.longitude,
                borough=new.borough,
                summary=new.summary,
                officers=list(new.officers),
                registered_by=str(actor),
                registered_at=datetime.now(UTC),
            )
            record(
                "complaint",
                actor,
                details={
                    "event": "registered",
                    "complaint": new.reference,
                    "officers": list(new.officers),
                },
            )
    except IntegrityError:
        raise ComplaintConflict(f"complaint {new.reference} is already registered") from None
    return complaint


def get(reference: str) -> Complaint:
    complaint = Complaint.objects.filter(reference=reference).first()
    if complaint is None:
        raise ComplaintNotFound(f"no complaint {reference}")
    return complaint


def proposed(complaint: Complaint) -> list[Recording]:
    """The named officers' recordings that match the complaint's time and place."""
    from overt.evidence.models import Officer

    ids = set(Officer.objects.filter(number__in=complaint.officers).values_list("pk", flat=True))
    limits = thresholds()
    by_officer = recordings_by_officer(ids, complaint.occurred_from, complaint.occurred_to, limits)
    place = None
    if complaint.latitude is not None and complaint.longitude is not None:
        place = (complaint.latitude, complaint.longitude)
    found = [
        r.id
        for recs in by_officer.values()
        for r in matches(complaint.occurred_from, complaint.occurred_to, place, recs, limits)
    ]
    linked = set(complaint.links.values_list("recording_id", flat=True))
    return list(
        Recording.objects.filter(pk__in=set(found) - linked)
        .select_related("officer")
        .order_by("trigger_on_at")
    )


def link(reference: str, recording_id: int, *, actor: Actor) -> ComplaintLink:
    """Link footage; a complaint hold goes on it in the same transaction."""
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().filter(reference=reference).first()
        if complaint is None:
            raise ComplaintNotFound(f"no complaint {reference}")
        if complaint.closed_on is not None:
            raise ComplaintConflict(f"complaint {reference} is closed")
        if complaint.links.filter(recording_id=recording_id).exists():
            raise ComplaintConflict(f"recording {recording_id} is already linked to {reference}")
        held = set_hold(
            recording_id,
            kind="complaint",
            reason=f"complaint {reference}: footage linked to the complaint",
            reference=reference,
            actor=actor,
        )
        made = ComplaintLink.objects.create(
            complaint=complaint,
            recording_id=recording_id,
            hold_id=held.hold.pk,
            linked_by=str(actor),
            linked_at=datetime.now(UTC),
        )
        record(
            "complaint",
            actor,
            details={
                "event": "linked",
                "complaint": reference,
                "recording": recording_id,
                "hold": held.hold.pk,
            },
        )
    return made


def close(reference: str, *, outcome: str, closed_on: date, actor: Actor) -> Complaint:
    """Record the outcome; each complaint hold it placed is released (custody entries)."""
    if not outcome.strip():
        raise ComplaintInvalid("an outcome is needed", field="outcome")
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().filter(reference=reference).first()
        if complaint is None:
            raise ComplaintNotFound(f"no complaint {reference}")
        if complaint.closed_on is not None:
            raise ComplaintConflict(f"complaint {reference} was closed on {complaint.closed_on}")
        if closed_on < complaint.received_on:
            raise ComplaintInvalid("is before the complaint was received", field="closed_on")
        complaint.outcome = outcome.strip()[:200]
        complaint.closed_on = closed_on
        complaint.save(update_fields=["outcome", "closed_on"])
        for made in complaint.links.all():
            release_hold(
                made.recording_id,
                hold_id=made.hold_id,
                reason=f"complaint {reference} closed: {complaint.outcome}",
                actor=actor,
            )
        record(
            "complaint",
            actor,
            details={
                "event": "closed",
                "complaint": reference,
                "outcome": complaint.outcome,
                "closed_on": closed_on.isoformat(),
            },
        )
    return complaint


def figures(complaints: QuerySet[Complaint] | None = None) -> dict[str, Any]:
    """The share with footage, and the days to resolution with and without footage."""
    rows = list(
        (complaints if complaints is not None else Complaint.objects.all()).prefetch_related(
            "links"
        )
    )
    with_footage = [c for c in rows if c.links.all()]
    without = [c for c in rows if not c.links.all()]

    def days(group: list[Complaint]) -> dict[str, Any]:
        closed = [(c.closed_on - c.received_on).days for c in group if c.closed_on is not None]
        return {
            "complaints": len(group),
            "closed": len(closed),
            "median_days_to_resolution": statistics.median(closed) if closed else None,
            "mean_days_to_resolution": round(statistics.fmean(closed), 1) if closed else None,
        }

    return {
        "complaints": len(rows),
        "with_footage": len(with_footage),
        "share_with_footage": round(len(with_footage) / len(rows), 4) if rows else None,
        "resolution_with_footage": days(with_footage),
        "resolution_without_footage": days(without),
    }
