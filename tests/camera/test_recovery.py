"""Recovery of a segment cut off at any byte: kept up to its last complete fragment, still
playable, signed as interrupted; a file with no complete header is kept whole."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import av
import pytest

from overt_camera import fmp4, keys, recovery
from overt_camera.home import Home
from overt_camera.manifest import Trigger
from overt_camera.recorder import Context, Recording, journal_path
from overt_camera.synthetic import SyntheticSource


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A real segment of about 4 s (four fragments) and its journal, before it closed."""
    home = Home(tmp_path_factory.mktemp("rec"))
    home.create()
    key = keys.load_or_create(home.key_path)
    source = SyntheticSource(160, 120, 10, 200, 1.0)
    context = Context(home, key, "CAM-1", keys.key_id(keys.public_raw(key)),
                      source.video_template, source.audio_template, False, 600, False)  # fmt: skip
    recording = Recording(context, uuid.uuid4().hex, home.next_sequence(), 0.0)
    stop = threading.Event()
    began = time.time()
    for packet in source.packets(stop):
        if recording.writer is None:
            recording.begin([packet], Trigger(time.time(), "manual", "start", "test"))
        else:
            recording.write(packet)
        if time.time() - began > 4.2:
            break
    assert recording.writer is not None
    path = recording.writer.path
    data, journal = path.read_bytes(), journal_path(path).read_bytes()
    recording.writer.close()  # only to release the file; the bytes above are mid-recording
    source.close()
    return data, journal


def _frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_cut_at_any_point_keeps_every_complete_fragment(recorded, tmp_path: Path) -> None:
    data, journal = recorded
    whole = tmp_path / "whole.mp4"
    whole.write_bytes(data)
    full = fmp4.scan(whole)
    assert full.has_header and full.fragments >= 3
    step = max(1, len(data) // 40)
    for cut in [*range(0, len(data), step), len(data) - 1]:
        home = Home(tmp_path / f"cut{cut}")
        home.create()
        key = keys.load_or_create(home.key_path)
        path = home.spool / "CAM-1-000001-0000.mp4"
        path.write_bytes(data[:cut])
        journal_path(path).write_bytes(journal)
        recovery.recover(home, key, "CAM-1", keys.key_id(keys.public_raw(key)))
        record = json.loads(path.with_suffix(".manifest.json").read_bytes())
        assert record["interrupted"] and record["final"]
        assert record["triggers"][0]["reason"] == "test"
        scan = fmp4.scan(path)
        if scan.has_header:
            assert path.stat().st_size == scan.complete_bytes <= cut
            assert data[: scan.complete_bytes] == path.read_bytes()  # a prefix, unchanged
            if scan.fragments:
                assert _frames(path) > 0
        else:
            assert path.read_bytes() == data[:cut]  # no header: kept whole, never dropped
        assert record["size"] == path.stat().st_size
        assert not journal_path(path).exists()


def test_a_segment_without_a_journal_is_still_kept_and_chained(recorded, tmp_path) -> None:
    data, _ = recorded
    home = Home(tmp_path)
    home.create()
    key = keys.load_or_create(home.key_path)
    path = home.spool / "CAM-1-000007-0000.mp4"
    path.write_bytes(data[: len(data) - 100])
    recovery.recover(home, key, "CAM-1", keys.key_id(keys.public_raw(key)))
    record = json.loads(path.with_suffix(".manifest.json").read_bytes())
    assert record["interrupted"] and record["device_sequence"] == 1
    assert home.chain().last_manifest_sha256 is not None
