"""Swift GET of a clip by an Axis Body Worn System: accountable, and only while the
recording is still as the device left it.

The Axis token is one account for the whole Body Worn System, so it can name any clip
it ever sent. Reading one back is a device read of evidence: it writes a `download`
custody entry (the camera as actor) in the same transaction in which the read begins,
and a read that is refused writes `access-refused`.

A read is refused (403) once anyone has changed who may see the recording since it was
uploaded: an access class (restricted or confidential) was set, or it was filed under
an incident (an Axis upload never names one, and every post-incident procedure hangs on
an incident, so this also covers a post-incident lock and a move between incidents).
Those recordings are read through overt, by a person whose access is checked.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from overt.access.models import AccessClass
from overt.custody.services import Actor, Subject, record
from overt.errors import Refused
from overt.evidence.models import Original, Recording
from overt.web.client_address import client_of

from .axis import objects, protocol
from .models import AxisObject


def why_refused(recording: Recording) -> str | None:
    """Why a device may no longer read this recording back, or None while it may."""
    access_class = AccessClass.objects.filter(recording=recording).first()
    if access_class is not None:
        return f"the recording has been marked {access_class.level}"
    if recording.incident_id is not None:
        return "the recording has been filed under an incident since it was uploaded"
    return None


def read_clip(
    request: HttpRequest, container_name: str, name: str
) -> tuple[dict[str, str], str, bytes | protocol.Stream, str]:
    """As `objects.get_object`, for a GET: logs the read of a clip (staged or ingested)
    and refuses one whose recording's access changed. The body is opened (the store's
    read started) inside the transaction that writes the entry."""
    obj = (
        AxisObject.objects.select_related("container")
        .filter(container__name=container_name, name=name, kind=AxisObject.Kind.CLIP)
        .first()
    )
    if obj is None:
        return objects.get_object(container_name, name)
    serial = obj.container.metadata.get("bwcserialnumber") or ""
    actor = Actor("device", serial) if serial else Actor.system("axis")
    client = client_of(request)
    with transaction.atomic():
        original = (
            Original.objects.select_related("recording").filter(pk=obj.original_id).first()
            if obj.original_id
            else None
        )
        ids: dict[str, int | str] = {"axis_object": f"{container_name}/{name}"}
        if original is not None:
            ids.update(original=original.pk, recording=original.recording_id)
        subject = Subject(original.sha256 if original else obj.sha256, ids)
        details = {
            "what": "original" if original else "staged clip",
            "via": "swift",
            "size": obj.size,
        }
        reason = why_refused(original.recording) if original else None
        if reason is not None:
            details["reason"] = reason
            record("access-refused", actor, subject, client=client, details=details)
        else:
            meta, md5, body, content_type = objects.get_object(container_name, name)
            if isinstance(body, protocol.Stream):
                body = _opened(body)
            record("download", actor, subject, client=client, details=details)
            return meta, md5, body, content_type
    raise Refused(
        f"{reason}; a Body Worn System may no longer read it back (ask for it through overt)",
    )


def _opened(stream: protocol.Stream) -> protocol.Stream:
    """The stream with its source already opened, so a failure to open comes now."""
    chunks = stream.open()
    return protocol.Stream(stream.size, lambda: chunks)
