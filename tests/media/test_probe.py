"""probe() against real files written by PyAV: good, odd, damaged and missing."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import av
import pytest

from overt.demo.footage import render_clip, write_corrupt_clip
from overt.media.probe import probe

START = datetime(2024, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC)


def _clip(path: Path, **overrides: object) -> Path:
    options: dict[str, object] = {
        "seed": 7,
        "start_utc": START,
        "duration_s": 2.0,
        "device_serial": "TEST-CAM-1",
        "officer_number": "1234",
        "width": 320,
        "height": 180,
    }
    options.update(overrides)
    render_clip(path, **options)  # type: ignore[arg-type]
    return path


@pytest.fixture(scope="module")
def good_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _clip(tmp_path_factory.mktemp("probe") / "good.mp4")


def test_good_clip_fields(good_clip: Path) -> None:
    info = probe(good_clip)
    assert info.playable and info.problem is None
    assert "mp4" in (info.container or "")
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height, info.rotation) == (320, 180, 0)
    assert info.fps == pytest.approx(25.0)
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    assert (info.audio_sample_rate, info.audio_channels) == (48_000, 1)
    assert info.bit_rate and info.bit_rate > 0
    # MP4 stores whole seconds only.
    assert info.creation_time == START.replace(microsecond=0)

    data = info.to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["creation_time"] == "2024-05-01T12:00:00Z"


def test_accepts_str_path(good_clip: Path) -> None:
    assert probe(str(good_clip)).playable


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "nope.mp4")


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    info = probe(empty)
    assert not info.playable
    assert "empty" in (info.problem or "")


def test_random_bytes(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(64 * 1024))
    info = probe(junk)
    assert not info.playable
    assert info.problem


def test_directory_is_unplayable_not_an_error(tmp_path: Path) -> None:
    info = probe(tmp_path)
    assert not info.playable and info.problem


def test_truncated_before_index(good_clip: Path, tmp_path: Path) -> None:
    # Camera-style MP4s write moov last, so a cut loses the index entirely.
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good_clip.read_bytes()[: good_clip.stat().st_size // 2])
    info = probe(cut)
    assert not info.playable
    assert "moov" in (info.problem or "")


def test_truncated_after_front_index_is_playable_but_flagged(
    good_clip: Path, tmp_path: Path
) -> None:
    faststart = tmp_path / "faststart.mp4"
    with (
        av.open(str(good_clip)) as src,
        av.open(str(faststart), "w", options={"movflags": "faststart"}) as dst,
    ):
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            dst.mux(packet)
    data = faststart.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")
    cut = tmp_path / "cut-front.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])

    info = probe(cut)
    assert info.playable  # the first frame still decodes
    assert (info.problem or "").startswith("truncated")


def test_corrupt_demo_clip(tmp_path: Path) -> None:
    facts = write_corrupt_clip(tmp_path / "corrupt.mp4", seed=3)
    info = probe(facts.path)
    assert not info.playable
    assert "moov" in (info.problem or "")


def test_audio_less_clip(tmp_path: Path) -> None:
    info = probe(_clip(tmp_path / "silent.mp4", with_audio=False))
    assert info.playable
    assert info.audio_codec is None
    assert info.audio_sample_rate is None and info.audio_channels is None


def test_odd_dimensions(tmp_path: Path) -> None:
    info = probe(_clip(tmp_path / "odd.mp4", width=321, height=181, duration_s=1.0))
    assert info.playable
    assert (info.width, info.height) == (321, 181)


def test_rotation_from_display_matrix(tmp_path: Path) -> None:
    info = probe(_clip(tmp_path / "rotated.mp4", rotation=90, duration_s=1.0))
    assert info.playable
    assert info.rotation == 90
    assert (info.width, info.height) == (320, 180)  # stored, not displayed, size
