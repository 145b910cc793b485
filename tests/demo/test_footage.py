"""Synthetic footage: determinism, metadata, and world audio events shared by cameras."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest

from overt.demo.footage import (
    AUDIO_RATE,
    ClipFacts,
    render_clip,
    world_audio_events,
    write_corrupt_clip,
)
from overt.media.probe import probe

START = datetime(2024, 11, 20, 14, 3, 7, 120_000, tzinfo=UTC)


def _render(path: Path, **overrides: object) -> ClipFacts:
    options: dict[str, object] = {
        "seed": 42,
        "start_utc": START,
        "duration_s": 2.0,
        "device_serial": "OVT-000123",
        "officer_number": "PC 4821",
        "width": 320,
        "height": 180,
    }
    options.update(overrides)
    return render_clip(path, **options)  # type: ignore[arg-type]


def _frame_hashes(path: str, count: int) -> list[str]:
    with av.open(path) as container:
        hashes = []
        for frame in container.decode(video=0):
            hashes.append(hashlib.sha256(frame.to_ndarray(format="rgb24").tobytes()).hexdigest())
            if len(hashes) == count:
                break
    return hashes


def _audio(path: str) -> np.ndarray:
    with av.open(path) as container:
        return np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(audio=0)])


def test_same_seed_same_pictures(tmp_path: Path) -> None:
    a = _render(tmp_path / "a.mp4")
    b = _render(tmp_path / "b.mp4")
    c = _render(tmp_path / "c.mp4", seed=43)
    assert _frame_hashes(a.path, 5) == _frame_hashes(b.path, 5)
    assert _frame_hashes(a.path, 1) != _frame_hashes(c.path, 1)


def test_facts_and_metadata(tmp_path: Path) -> None:
    facts = _render(tmp_path / "clip.mp4", duration_s=3.0, fps=30)
    data = Path(facts.path).read_bytes()
    assert facts.sha256 == hashlib.sha256(data).hexdigest() and facts.size == len(data)
    assert (facts.width, facts.height, facts.fps, facts.duration_s) == (320, 180, 30.0, 3.0)
    assert facts.start_utc == START
    assert facts.stop_utc == START + timedelta(seconds=3)

    info = probe(facts.path)
    assert info.playable and info.problem is None
    assert info.duration_s == pytest.approx(3.0, abs=0.05)
    assert info.fps == pytest.approx(30.0)
    assert info.creation_time == START.replace(microsecond=0)


def test_overlay_clock_advances(tmp_path: Path) -> None:
    # At 180 px high the overlay is two 10-px text lines: identity, then the clock.
    facts = _render(tmp_path / "clip.mp4")
    with av.open(facts.path) as container:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    identity, clock = slice(0, 10), slice(10, 20)
    assert np.abs(frames[0][clock] - frames[25][clock]).mean() > 1
    assert np.abs(frames[0][identity] - frames[25][identity]).mean() < 1


def test_world_events_agree_between_overlapping_clips() -> None:
    later = START + timedelta(seconds=7, milliseconds=300)
    first = world_audio_events(START, 30.0, world_seed=9)
    second = world_audio_events(later, 30.0, world_seed=9)
    shared = [t for t in first if t >= 7.3]
    assert len(shared) >= 4
    assert second[: len(shared)] == pytest.approx([t - 7.3 for t in shared], abs=1e-9)
    assert world_audio_events(START, 30.0, world_seed=10) != first


def test_overlapping_clips_cross_correlate_to_start_offset(tmp_path: Path) -> None:
    offset_s = 2.5
    a = _render(tmp_path / "a.mp4", seed=1, duration_s=12.0, width=160, height=90)
    b = _render(
        tmp_path / "b.mp4",
        seed=2,
        start_utc=START + timedelta(seconds=offset_s),
        duration_s=12.0,
        width=160,
        height=90,
    )
    x, y = _audio(a.path), _audio(b.path)
    n = len(x) + len(y)
    corr = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(y, n)), n)
    lag = int(np.argmax(corr))
    lag = lag - n if lag > n // 2 else lag
    assert lag / AUDIO_RATE == pytest.approx(offset_s, abs=0.002)


def test_explicit_audio_event_lands_on_time(tmp_path: Path) -> None:
    facts = _render(tmp_path / "clip.mp4", audio_events=[1.25])
    loudest = int(np.argmax(np.abs(_audio(facts.path)))) / AUDIO_RATE
    assert loudest == pytest.approx(1.25, abs=0.01)


def test_no_audio(tmp_path: Path) -> None:
    facts = _render(tmp_path / "clip.mp4", with_audio=False)
    with av.open(facts.path) as container:
        assert not container.streams.audio


def test_corrupt_clip_is_unplayable_and_deterministic(tmp_path: Path) -> None:
    one = write_corrupt_clip(tmp_path / "one.mp4", seed=4)
    two = write_corrupt_clip(tmp_path / "two.mp4", seed=4)
    assert one.size == Path(one.path).stat().st_size > 0
    assert one.sha256 == two.sha256
    assert not probe(one.path).playable


def test_a_camera_clock_error_moves_its_claims_not_the_world(tmp_path: Path) -> None:
    """A camera 0.8 s fast stamps (and claims) 0.8 s late; the world's sounds stay put."""
    true = _render(tmp_path / "true.mp4", seed=1, duration_s=12.0, width=160, height=90)
    fast = _render(
        tmp_path / "fast.mp4",
        seed=2,
        start_utc=START + timedelta(seconds=0.8),
        clock_error_s=0.8,
        duration_s=12.0,
        width=160,
        height=90,
    )
    assert fast.start_utc == START + timedelta(seconds=0.8)
    assert probe(fast.path).creation_time == (START + timedelta(seconds=0.8)).replace(microsecond=0)
    x, y = _audio(true.path), _audio(fast.path)
    n = len(x) + len(y)
    corr = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(y, n)), n)
    lag = int(np.argmax(corr))
    lag = lag - n if lag > n // 2 else lag
    assert lag / AUDIO_RATE == pytest.approx(0.0, abs=0.002)  # recorded at the same instant
