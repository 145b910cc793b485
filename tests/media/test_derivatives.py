"""Derivatives made from real synthetic clips; outputs are re-read with PyAV and PIL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from overt.demo.footage import render_clip, write_corrupt_clip
from overt.media.derivatives import (
    GENERATOR,
    GENERATOR_VERSION,
    MediaError,
    make_poster,
    make_proxy,
    make_sprite,
)
from overt.media.probe import probe
from overt.media.waveform import make_waveform

START = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def _clip(path: Path, **overrides: object) -> Path:
    options: dict[str, object] = {
        "seed": 11,
        "start_utc": START,
        "duration_s": 2.0,
        "device_serial": "TEST-CAM-2",
        "officer_number": "5678",
        "width": 1280,
        "height": 720,
        "audio_events": [1.0],
    }
    options.update(overrides)
    render_clip(path, **options)  # type: ignore[arg-type]
    return path


@pytest.fixture(scope="module")
def hd_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _clip(tmp_path_factory.mktemp("deriv") / "hd.mp4")


def test_generator_version_names_libraries() -> None:
    assert GENERATOR == "overt.media"
    assert f"pyav={av.__version__}" in GENERATOR_VERSION
    assert "libavcodec=" in GENERATOR_VERSION


def test_proxy_is_fragmented_h264_aac(hd_clip: Path, tmp_path: Path) -> None:
    dst = tmp_path / "proxy.mp4"
    seen: list[float] = []
    result = make_proxy(hd_clip, dst, progress=seen.append)

    info = probe(dst)
    assert info.playable and info.problem is None
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert b"moof" in dst.read_bytes()
    assert (result.width, result.height) == (1280, 720) == (info.width, info.height)
    assert result.has_audio and result.frames == 50
    assert info.duration_s == pytest.approx(2.0, abs=0.2)
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_proxy_downscales_1080p(tmp_path: Path) -> None:
    src = _clip(tmp_path / "fhd.mp4", width=1920, height=1080, duration_s=1.0)
    result = make_proxy(src, tmp_path / "proxy.mp4")
    info = probe(tmp_path / "proxy.mp4")
    assert (result.width, result.height) == (1280, 720) == (info.width, info.height)


def test_proxy_keeps_audio_in_sync(hd_clip: Path, tmp_path: Path) -> None:
    dst = tmp_path / "proxy.mp4"
    make_proxy(hd_clip, dst, max_height=360)
    assert abs(_loudest_time(dst) - _loudest_time(hd_clip)) < 0.005
    with av.open(str(dst)) as proxy:
        first = next(proxy.decode(video=0))
        assert first.time == pytest.approx(0.0, abs=1e-3)


def test_proxy_without_audio(tmp_path: Path) -> None:
    src = _clip(tmp_path / "silent.mp4", with_audio=False, width=320, height=180)
    result = make_proxy(src, tmp_path / "proxy.mp4")
    assert not result.has_audio and result.audio_codec is None
    with av.open(str(tmp_path / "proxy.mp4")) as proxy:
        assert not proxy.streams.audio and len(proxy.streams.video) == 1


def test_proxy_makes_odd_dimensions_even(tmp_path: Path) -> None:
    src = _clip(tmp_path / "odd.mp4", width=641, height=361, duration_s=1.0)
    result = make_proxy(src, tmp_path / "proxy.mp4")
    assert result.width % 2 == 0 and result.height % 2 == 0
    assert result.height <= 361 and abs(result.width / result.height - 641 / 361) < 0.02
    assert probe(tmp_path / "proxy.mp4").playable


def test_proxy_applies_rotation(tmp_path: Path) -> None:
    src = _clip(tmp_path / "rot.mp4", width=320, height=180, rotation=90, duration_s=1.0)
    result = make_proxy(src, tmp_path / "proxy.mp4")
    info = probe(tmp_path / "proxy.mp4")
    assert (result.width, result.height) == (180, 320) == (info.width, info.height)
    assert info.rotation == 0 and result.rotation_applied == 90


def test_proxy_keeps_variable_frame_timing(tmp_path: Path) -> None:
    src = tmp_path / "vfr.mp4"
    times_ms = [0, 40, 80, 200, 240, 400, 433, 466, 700, 1000]
    with av.open(str(src), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.time_base = Fraction(1, 1000)
        for i, ms in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), i * 20, np.uint8))
            frame.pts = ms
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))

    make_proxy(src, tmp_path / "proxy.mp4")
    with av.open(str(tmp_path / "proxy.mp4")) as proxy:
        got = [round(f.time * 1000) for f in proxy.decode(video=0)]
    assert got == times_ms


def test_poster(hd_clip: Path, tmp_path: Path) -> None:
    dst = tmp_path / "poster.jpg"
    result = make_poster(hd_clip, dst)
    with Image.open(dst) as image:
        assert image.format == "JPEG"
        assert image.size == (result.width, result.height) == (1280, 720)
    assert 0.0 <= result.at_s <= 2.0

    make_poster(hd_clip, tmp_path / "small.jpg", at_s=0.5, max_height=360)
    with Image.open(tmp_path / "small.jpg") as image:
        assert image.size == (640, 360)


def test_sprite_facts_match_image(hd_clip: Path, tmp_path: Path) -> None:
    dst = tmp_path / "sprite.jpg"
    result = make_sprite(hd_clip, dst, columns=3, tile_width=64, interval_s=0.5)
    assert result.count == 4 and result.interval_s == 0.5
    assert (result.columns, result.rows, result.tile_height) == (3, 2, 36)
    with Image.open(dst) as image:
        assert image.size == (result.columns * 64, result.rows * 36)
        assert image.size == (result.width, result.height)


def test_sprite_default_interval(hd_clip: Path, tmp_path: Path) -> None:
    result = make_sprite(hd_clip, tmp_path / "sprite.jpg")
    assert result.interval_s == 1.0 and result.count == 2 and result.columns == 2


def test_waveform_schema_and_event(hd_clip: Path, tmp_path: Path) -> None:
    dst = tmp_path / "wave.json"
    result = make_waveform(hd_clip, dst, peaks_per_second=50)
    doc = json.loads(dst.read_text())
    assert {k: doc[k] for k in ("version", "has_audio", "channels", "peaks_per_second")} == {
        "version": 1,
        "has_audio": True,
        "channels": 1,
        "peaks_per_second": 50,
    }
    assert doc["sample_rate"] == 48_000
    assert doc["duration_s"] == pytest.approx(2.0, abs=0.05)
    peaks = np.array(doc["peaks"])
    assert peaks.shape == (result.count, 2) and abs(result.count - 100) <= 2
    assert (peaks >= -1).all() and (peaks <= 1).all() and (peaks[:, 0] <= peaks[:, 1]).all()
    loudest = int(np.argmax(peaks[:, 1] - peaks[:, 0]))
    assert loudest / 50 == pytest.approx(1.0, abs=0.05)


def test_waveform_without_audio(tmp_path: Path) -> None:
    src = _clip(tmp_path / "silent.mp4", with_audio=False, width=320, height=180)
    result = make_waveform(src, tmp_path / "wave.json")
    doc = json.loads((tmp_path / "wave.json").read_text())
    assert doc["has_audio"] is False and doc["peaks"] == [] and not result.has_audio


@pytest.mark.parametrize("maker", [make_proxy, make_poster, make_sprite, make_waveform])
def test_unplayable_source_raises(maker: object, tmp_path: Path) -> None:
    bad = write_corrupt_clip(tmp_path / "bad.mp4", seed=5)
    with pytest.raises(MediaError, match="unplayable"):
        maker(bad.path, tmp_path / "out")  # type: ignore[operator]


def _loudest_time(path: Path) -> float:
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)]
        rate = container.streams.audio[0].codec_context.sample_rate
    samples = np.concatenate(chunks)
    return float(np.argmax(np.abs(samples))) / rate


def test_poster_and_sprite_seek_in_longer_clip(tmp_path: Path) -> None:
    src = _clip(tmp_path / "long.mp4", width=320, height=180, duration_s=15.0)
    poster = make_poster(src, tmp_path / "poster.jpg", at_s=12.3)
    assert poster.at_s == pytest.approx(12.3, abs=0.04)

    sprite = make_sprite(src, tmp_path / "sprite.jpg", interval_s=5.0, tile_width=32)
    assert (sprite.count, sprite.columns, sprite.rows) == (3, 3, 1)
    with Image.open(tmp_path / "sprite.jpg") as image:
        tiles = np.asarray(image.convert("L"), dtype=np.int16).reshape(18, 3, 32)
    # Tiles show different moments, so the shapes have moved between them.
    assert np.abs(tiles[:, 0] - tiles[:, 2]).mean() > 1


def test_proxy_of_truncated_but_playable_source(hd_clip: Path, tmp_path: Path) -> None:
    proxy = tmp_path / "proxy.mp4"
    make_proxy(hd_clip, proxy, max_height=180)
    cut = tmp_path / "cut.mp4"
    data = proxy.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # fragmented: the early fragments survive
    assert probe(cut).playable

    result = make_proxy(cut, tmp_path / "again.mp4", max_height=180)
    assert 0 < result.frames < 50
    assert probe(tmp_path / "again.mp4").playable
