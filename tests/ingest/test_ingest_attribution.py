"""Who delivered what, on every path through ingest_file() (issue 11, items 6, 11, 25):
a repeated delivery leaves a custody entry; the officer comes from the explicit number,
the sidecar, or the camera's assignment at capture time; a path that is not a file is
refused with a message before anything is stored."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import DeviceAssignment, Officer, Original, Recording
from overt.evidence.store import get_store
from overt.ingest.people import UNATTRIBUTED
from overt.ingest.services import IngestError, ingest_file
from overt.ingest.sidecar import parse_sidecar

pytestmark = pytest.mark.scaled


def _ingest_entries(sha256: str) -> list[dict]:
    rows = CustodyEntry.objects.filter(object_sha256=sha256, action="ingest").order_by("index")
    return [json.loads(row.entry) for row in rows]


def test_a_second_delivery_is_recorded_with_its_own_officer_device_and_source(
    people, clips
) -> None:
    officer, _device = people
    Officer.objects.create(number="MP200", name="PC Other")
    first = ingest_file(clips["good"], officer_number="MP100", device_serial="CAM-1")
    again = ingest_file(
        clips["good"],
        officer_number="MP200",
        device_serial="CAM-1",
        source=Original.Source.UPLOAD,
        actor=Actor("device", "DOCK-7"),
        filename="again.mp4",
    )
    assert again.status == "duplicate" and again.id == first.id
    assert Original.objects.count() == 1
    entries = _ingest_entries(first.sha256)
    assert len(entries) == 2
    assert "duplicate" not in entries[0]["details"]
    second = entries[1]
    assert second["actor"] == {"kind": "device", "id": "DOCK-7"}
    assert second["object"]["ids"] == {"original": first.id, "recording": first.recording_id}
    assert second["details"] == {
        "duplicate": True,
        "officer": "MP200",
        "device": "CAM-1",
        "source": "upload",
        "filename": "again.mp4",
        "size": clips["good"].stat().st_size,
    }
    # The first receipt stays the record of the original; only the log grew.
    assert Original.objects.get(pk=first.id).recording.officer == officer


def _assign(number: str, starts: str, ends: str | None = None) -> None:
    officer = Officer.objects.get_or_create(number=number, defaults={"name": number})[0]
    DeviceAssignment.objects.create(
        device_id=_device_pk(),
        officer=officer,
        starts_at=datetime.fromisoformat(starts),
        ends_at=datetime.fromisoformat(ends) if ends else None,
    )


def _device_pk() -> int:
    from overt.evidence.models import Device

    return Device.objects.get(serial="CAM-1").pk


def test_without_an_officer_the_assignment_at_capture_time_decides(people, clips) -> None:
    # The good clip's container says it was recorded at 2026-11-20T14:00:00Z.
    _assign("MP100", "2026-11-01T00:00:00+00:00", "2026-11-20T13:00:00+00:00")
    _assign("MP200", "2026-11-20T13:00:00+00:00")
    later = ingest_file(clips["good"], officer_number=None, device_serial="CAM-1")
    assert Recording.objects.get(pk=later.recording_id).officer.number == "MP200"
    assert _ingest_entries(later.sha256)[0]["details"]["officer"] == "MP200"

    sidecar = parse_sidecar(
        json.dumps(
            {"schema": "overt.sidecar/1", "clip": {"started_at": "2026-11-20T12:00:00Z"}}
        ).encode()
    )
    earlier = ingest_file(
        clips["silent"], officer_number=None, device_serial="CAM-1", sidecar=sidecar
    )
    assert Recording.objects.get(pk=earlier.recording_id).officer.number == "MP100"


def test_an_explicit_officer_beats_the_assignment(people, clips) -> None:
    _assign("MP200", "2026-11-01T00:00:00+00:00")
    result = ingest_file(clips["good"], officer_number="MP100", device_serial="CAM-1")
    assert Recording.objects.get(pk=result.recording_id).officer.number == "MP100"


def test_no_officer_and_no_assignment_is_kept_as_unattributed(people, clips) -> None:
    """Nothing off a camera is dropped (issue 18): the fleet's unattributed worklist."""
    _assign("MP200", "2026-12-01T00:00:00+00:00")  # after the clip was recorded
    result = ingest_file(clips["good"], officer_number=None, device_serial="CAM-1")
    recording = Recording.objects.get(pk=result.recording_id)
    assert recording.officer.number == UNATTRIBUTED and not recording.officer.active
    assert get_store().exists(Original.objects.get(recording=recording).sha256)


def test_a_directory_or_a_device_file_is_refused_with_a_message(people, tmp_path) -> None:
    with pytest.raises(IngestError, match="is a directory: name the files in it"):
        ingest_file(tmp_path, officer_number="MP100", device_serial="CAM-1")
    with pytest.raises(IngestError, match="not a regular file or a pipe"):
        ingest_file(Path(os.devnull), officer_number="MP100", device_serial="CAM-1")
    assert not Original.objects.exists() and not CustodyEntry.objects.exists()


def test_a_clip_claiming_another_officers_activation_is_refused_before_storing(
    people, clips
) -> None:
    Officer.objects.create(number="MP200", name="PC Other")
    meta = {
        "schema": "overt.sidecar/1",
        "device": "CAM-1",
        "recording": {"trigger_on_at": "2026-11-20T14:00:00Z"},
    }
    first = parse_sidecar(json.dumps({**meta, "officer": "MP100"}).encode())
    ingest_file(clips["good"], officer_number=None, device_serial=None, sidecar=first)
    before = set(get_store().iter_hashes())
    second = parse_sidecar(json.dumps({**meta, "officer": "MP200"}).encode())
    with pytest.raises(IngestError, match="belongs to officer MP100, not MP200"):
        ingest_file(clips["silent"], officer_number=None, device_serial=None, sidecar=second)
    # Refused before a byte was written: no uncatalogued object is left in the store.
    assert set(get_store().iter_hashes()) == before
