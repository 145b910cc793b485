"""The unattributed worklist: footage from a camera that was assigned to no one when it
recorded. Ingest keeps it (filed under the reserved officer UNATTRIBUTED, never dropped);
an evidence manager names the wearer here, one custody entry per clip."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, QuerySet, Sum

from overt import errors
from overt.access.recording_log import record_for_recording
from overt.custody.services import Actor
from overt.evidence.models import Officer, Recording
from overt.ingest.people import UNATTRIBUTED


def worklist() -> QuerySet[Recording]:
    return (
        Recording.objects.filter(officer__number=UNATTRIBUTED)
        .select_related("device")
        .annotate(clips=Count("originals"), bytes=Sum("originals__size"))
        .order_by("trigger_on_at", "id")
    )


def attribute(recording_id: int, number: str, *, by: Actor) -> Recording:
    """Name the officer who wore the camera for unattributed recording `recording_id`."""
    with transaction.atomic():
        recording = (
            Recording.objects.select_for_update()
            .select_related("officer", "device")
            .filter(pk=recording_id)
            .first()
        )
        # One answer for none and for one already attributed: the fleet manager may not
        # see that recording (its officer names it), so its existence is not told.
        if recording is None or recording.officer.number != UNATTRIBUTED:
            raise errors.NotFound(f"no unattributed recording {recording_id}")
        officer = Officer.objects.filter(number=number).exclude(number=UNATTRIBUTED).first()
        if officer is None:
            raise errors.NotFound(f"no officer {number!r}")
        recording.officer = officer
        recording.save(update_fields=["officer"])
        record_for_recording(
            "metadata-change",
            by,
            recording,
            details={
                "change": "recording-attributed",
                "recording": recording.pk,
                "device": recording.device.serial,
                "officer": number,
                "was": UNATTRIBUTED,
            },
        )
    return recording
