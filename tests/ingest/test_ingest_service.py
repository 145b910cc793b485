"""The ingest service: durable object first, then catalogue row and custody entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from overt.custody.models import CustodyEntry
from overt.evidence.models import Derivative, Incident, Marker, Original, Recording
from overt.evidence.store import HashMismatch, get_store
from overt.ingest.services import IngestError, UnknownDevice, UnknownOfficer, ingest_file
from overt.ingest.sidecar import parse_sidecar
from overt.jobs.models import Job

pytestmark = pytest.mark.scaled


def _ingest(path: Path, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("officer_number", "MP100")
    kw.setdefault("device_serial", "CAM-1")
    return ingest_file(path, **kw)  # type: ignore[arg-type]


def test_good_clip_is_stored_catalogued_and_logged(people, clips) -> None:
    result = _ingest(clips["good"])
    assert result.status == "stored" and result.playable
    original = Original.objects.get(pk=result.id)
    assert original.sha256 == result.sha256
    assert original.size == clips["good"].stat().st_size
    assert b"".join(get_store().read_range(original.sha256)) == clips["good"].read_bytes()
    assert original.video_codec == "h264" and original.audio_codec == "aac"
    assert original.width == 320 and original.height == 180
    assert original.duration_s == pytest.approx(2.0, abs=0.1)
    assert original.started_at.isoformat().startswith("2026-11-20T14:00:00")

    entry = CustodyEntry.objects.get(object_sha256=original.sha256, action="ingest")
    body = json.loads(entry.entry)
    assert body["object"]["ids"] == {"original": original.pk, "recording": original.recording_id}
    assert body["details"]["officer"] == "MP100" and body["details"]["device"] == "CAM-1"
    kinds = set(Job.objects.values_list("kind", flat=True))
    assert kinds == {
        "media.proxy",
        "media.poster",
        "media.sprite",
        "media.waveform",
        "transcripts.transcribe",  # every playable original is transcribed (issue 16)
    }


def test_second_ingest_is_a_duplicate_with_no_new_original(people, clips) -> None:
    first = _ingest(clips["good"])
    again = _ingest(clips["good"])
    assert again.status == "duplicate" and again.id == first.id
    assert Original.objects.count() == 1
    # The second delivery is not stored again, but it is recorded (issue 11, item 6).
    assert CustodyEntry.objects.filter(action="ingest").count() == 2


@pytest.mark.parametrize("name", ["corrupt", "empty", "noise", "truncated"])
def test_unplayable_media_is_kept_and_flagged(people, clips, name: str) -> None:
    result = _ingest(clips[name])
    assert result.status == "stored"
    assert result.playable is False and result.problem
    original = Original.objects.get(pk=result.id)
    assert get_store().exists(original.sha256)
    assert get_store().rehash(original.sha256) == original.sha256
    assert not Job.objects.filter(key__endswith=f"original:{original.pk}").exists()


def test_declared_hash_is_checked_and_a_mismatch_stores_nothing(people, clips) -> None:
    data = clips["good"].read_bytes()
    import hashlib

    right = hashlib.sha256(data).hexdigest()
    assert _ingest(clips["good"], declared_sha256=right.upper()).status == "stored"

    wrong = "0" * 64
    before = set(get_store().iter_hashes())
    with pytest.raises(HashMismatch, match="declared sha256 0000"):
        _ingest(clips["silent"], declared_sha256=wrong)
    assert set(get_store().iter_hashes()) == before
    assert Original.objects.count() == 1
    assert not list((Path(get_store().url.removeprefix("file://")) / "tmp").glob("*.part")) or (
        get_store().url.startswith("s3://")
    )


def test_unknown_officer_or_device_stores_nothing(people, tmp_path, unique_bytes) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(unique_bytes(10_000))
    before = set(get_store().iter_hashes())
    with pytest.raises(UnknownOfficer, match="unknown officer 'MP999'"):
        _ingest(path, officer_number="MP999")
    with pytest.raises(UnknownDevice, match="unknown device 'NOPE'"):
        _ingest(path, device_serial="NOPE")
    assert set(get_store().iter_hashes()) == before
    assert not Original.objects.exists() and not CustodyEntry.objects.exists()


SIDECAR = {
    "schema": "overt.sidecar/1",
    "officer": "MP100",
    "device": "CAM-1",
    "recording": {
        "trigger_on_at": "2026-11-20T14:00:30Z",
        "trigger_off_at": "2026-11-20T14:01:10+00:00",
        "trigger_on_reason": "weapon-drawn",
        "trigger_off_reason": "manual",
        "pre_event_seconds": 30,
        "incident": "CAD 1/20NOV",
        "title": "Test deployment",
        "location": {"lat": 51.5, "lon": -0.14},
        "gps_track": [
            {"t": "2026-11-20T14:00:00Z", "lat": 51.5, "lon": -0.14},
            {"t": "2026-11-20T14:00:05Z", "lat": 51.5001, "lon": -0.1401},
        ],
    },
    "clip": {"started_at": "2026-11-20T14:00:00Z"},
    "markers": [{"at": "2026-11-20T14:00:34Z", "text": "Subject challenged"}],
}


def test_sidecar_fills_the_recording(people, clips) -> None:
    sidecar = parse_sidecar(json.dumps(SIDECAR).encode())
    result = ingest_file(clips["good"], officer_number=None, device_serial=None, sidecar=sidecar)
    recording = Recording.objects.get(pk=result.recording_id)
    assert recording.trigger_on_reason == "weapon-drawn"
    assert recording.pre_event_seconds == 30
    assert recording.incident == Incident.objects.get(reference="CAD 1/20NOV")
    assert (recording.start_latitude, recording.start_longitude) == (51.5, -0.14)
    assert len(recording.gps_track) == 2
    marker = Marker.objects.get(recording=recording)
    assert marker.text == "Subject challenged" and marker.offset_s == pytest.approx(4.0)


def test_clips_of_one_activation_share_a_recording(people, clips) -> None:
    first = ingest_file(
        clips["good"],
        officer_number=None,
        device_serial=None,
        sidecar=parse_sidecar(json.dumps(SIDECAR).encode()),
    )
    second_meta = dict(SIDECAR, clip={"started_at": "2026-11-20T14:00:02Z"}, markers=[])
    second = ingest_file(
        clips["silent"],
        officer_number=None,
        device_serial=None,
        sidecar=parse_sidecar(json.dumps(second_meta).encode()),
    )
    assert first.recording_id == second.recording_id
    assert Recording.objects.get(pk=first.recording_id).originals.count() == 2


def test_files_without_sidecars_are_separate_recordings(people, clips) -> None:
    a = _ingest(clips["empty"])
    b = _ingest(clips["noise"])
    assert a.recording_id != b.recording_id


def test_sidecar_disagreeing_with_the_flags_is_refused(people, clips) -> None:
    sidecar = parse_sidecar(json.dumps(SIDECAR).encode())
    with pytest.raises(IngestError, match="disagrees with the sidecar"):
        ingest_file(clips["good"], officer_number="MP200", device_serial=None, sidecar=sidecar)
    assert not Original.objects.exists()


def test_no_derivative_rows_exist_before_jobs_run(people, clips) -> None:
    _ingest(clips["good"])
    assert not Derivative.objects.exists()
