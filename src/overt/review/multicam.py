"""The multi-camera view's data: an incident's recordings on one wall-clock timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from overt.access.services import Action, allowed
from overt.access.viewing import current_grant
from overt.evidence.models import Derivative, Incident, Recording

from . import offsets
from .models import SyncOffset
from .sync import confidence_level

MAX_PLAYERS = 4


def sync_state(
    request: HttpRequest, incident: Incident, recordings: list[Recording]
) -> dict[str, Any]:
    """Everything the page's script needs, for the recordings the viewer may see."""
    originals = offsets.playable_originals(r.pk for r in recordings)
    ids = {o.pk for o in originals}
    rows = list(
        SyncOffset.objects.filter(reference_id__in=ids, other_id__in=ids).select_related(
            "reference__recording__officer", "other__recording__officer"
        )
    )
    placed = offsets.place(originals, rows)
    origin = min((p.start for p in placed.values()), default=None)
    proxies = {
        d.original_id: d
        for d in Derivative.objects.filter(original_id__in=ids, kind=Derivative.Kind.PROXY)
    }
    job = offsets.latest_job(incident)

    def at(moment: datetime) -> float:
        assert origin is not None
        return round((moment - origin).total_seconds(), 3)

    out_recordings = []
    for recording in recordings:
        granted = current_grant(request, recording.pk) is not None
        may_stream = allowed(request.user, Action.STREAM, recording)
        clips = []
        for original in (o for o in originals if o.recording_id == recording.pk):
            placement = placed[original.pk]
            proxy = proxies.get(original.pk)
            clips.append(
                {
                    "original": original.pk,
                    "start": at(placement.start),
                    "duration": original.duration_s or 0.0,
                    "correction": round(placement.correction_s, 3),
                    "anchored": placement.anchored,
                    "fps": original.fps,
                    "proxy": reverse("derivative-media", args=[proxy.pk])
                    if proxy and granted and may_stream
                    else None,
                }
            )
        out_recordings.append(
            {
                "id": recording.pk,
                "title": str(recording),
                "officer": f"{recording.officer.number} {recording.officer.name}",
                "device": recording.device.serial,
                "url": reverse("recording", args=[recording.pk]),
                "granted": granted,
                "may_stream": may_stream,
                "may_edit": allowed(request.user, Action.EDIT, recording),
                "clips": clips,
            }
        )
    titles = {r.pk: str(r) for r in recordings}
    clip_numbers: dict[int, str] = {}
    for recording in recordings:
        own = [o for o in originals if o.recording_id == recording.pk]
        for number, original in enumerate(own, start=1):
            clip_numbers[original.pk] = (
                f"{titles[recording.pk]} (clip {number})" if len(own) > 1 else titles[recording.pk]
            )
    return {
        "incident": {"id": incident.pk, "reference": incident.reference, "title": incident.title},
        "origin": origin.isoformat() if origin else None,
        "recordings": out_recordings,
        "offsets": [
            {
                "id": row.pk,
                "url": reverse("api-sync-offset", args=[row.pk]),
                "reference": row.reference_id,
                "other": row.other_id,
                "reference_title": clip_numbers.get(row.reference_id, ""),
                "other_title": clip_numbers.get(row.other_id, ""),
                "offset_s": row.offset_s,
                "source": row.source,
                "estimated_s": row.estimated_s,
                "confidence": row.confidence,
                "level": confidence_level(row.confidence),
                "peak_ratio": row.peak_ratio,
                "updated_by": row.updated_by,
                "note": row.note,
                "may_edit": allowed(request.user, Action.EDIT, row.reference.recording)
                and allowed(request.user, Action.EDIT, row.other.recording),
            }
            for row in rows
        ],
        "job": {
            "id": job.pk,
            "status": job.status,
            "progress": job.progress,
            "last_error": job.last_error,
        }
        if job
        else None,
        "max_players": MAX_PLAYERS,
    }
