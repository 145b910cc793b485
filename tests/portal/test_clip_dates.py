"""A corrupt clip is dated from its file name (its container cannot be read), not from
the moment it was ingested (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from overt.ingest.times import time_from_filename

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("VID_20261120_140000.mp4", datetime(2026, 11, 20, 14, 0, tzinfo=UTC)),  # GMT in Nov
        ("20260720_140000.mp4", datetime(2026, 7, 20, 13, 0, tzinfo=UTC)),  # BST: UTC+1
        ("AXW120-0001_20261120T140000Z_0001.mkv", datetime(2026, 11, 20, 14, 0, tzinfo=UTC)),
        ("clip 2026-11-20 14.05.09.mov", datetime(2026, 11, 20, 14, 5, 9, tzinfo=UTC)),
        ("2026-11-20T14-05-09.mp4", datetime(2026, 11, 20, 14, 5, 9, tzinfo=UTC)),
    ],
)
def test_times_in_names(name: str, expected: datetime) -> None:
    assert time_from_filename(name, LONDON, NOW) == expected


@pytest.mark.parametrize(
    "name",
    [
        "clip.mp4",
        "20261399_250000.mp4",  # no such day or hour
        "19990101_000000.mp4",  # before any body-worn camera
        "20301120_140000.mp4",  # years ahead of now: a wrong clock
        "1220261120_140000.mp4",  # inside a longer number
    ],
)
def test_no_time_in_names(name: str) -> None:
    assert time_from_filename(name, LONDON, NOW) is None


@pytest.mark.django_db
def test_a_corrupt_clip_is_dated_from_its_name(tmp_path) -> None:
    import os

    from overt.demo.footage import write_corrupt_clip
    from overt.evidence.models import Device, Officer, Recording
    from overt.ingest.services import ingest_file

    Officer.objects.create(number="MP9", name="PC Nine")
    Device.objects.create(serial="CAM-9")
    path = tmp_path / "VID_20261120_140000.mp4"
    write_corrupt_clip(path, seed=3)
    os.utime(path, (NOW.timestamp(), NOW.timestamp()))  # as an upload or copy leaves it
    result = ingest_file(path, officer_number="MP9", device_serial="CAM-9")
    recording = Recording.objects.get(pk=result.recording_id)
    assert recording.trigger_on_at == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert not recording.originals.get().playable  # kept and flagged, never dropped
