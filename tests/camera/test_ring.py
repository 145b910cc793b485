"""The pre-event ring: starts at a keyframe within one GOP of the setting, bounded in
bytes, video only unless audio in the buffer is on."""

from __future__ import annotations

from fractions import Fraction

import pytest

from overt_camera.packets import AUDIO, VIDEO, Packet
from overt_camera.ring import Ring

FPS = 30
GOP = 30  # one keyframe a second


def _feed(ring: Ring, seconds: float, start: float = 1000.0, size: int = 1000) -> float:
    now = start
    for index in range(int(seconds * FPS)):
        now = start + index / FPS
        keyframe = index % GOP == 0
        ring.push(Packet(VIDEO, b"v" * size, index, index, 1, Fraction(1, FPS), keyframe, now))
        ring.push(Packet(AUDIO, b"a" * 10, index, index, 1, Fraction(1, FPS), True, now))
    return now


@pytest.mark.parametrize("setting", [0, 1, 5, 30, 120])
def test_the_recording_starts_within_one_gop_of_the_setting(setting: int) -> None:
    ring = Ring(setting, 1 << 30, keep_audio=False)
    now = _feed(ring, setting + 10)
    packets = ring.take(now, setting)
    first = packets[0]
    assert first.stream == VIDEO and first.keyframe
    assert abs((now - first.wall) - setting) <= GOP / FPS
    assert all(p.stream == VIDEO for p in packets)  # video only by default
    assert packets[-1].wall == now


def test_the_byte_cap_drops_whole_gops_and_the_real_length_is_shorter() -> None:
    ring = Ring(60, 10 * GOP * 1000, keep_audio=False)  # room for about 10 s
    now = _feed(ring, 40)
    assert ring.bytes <= 10 * GOP * 1000
    packets = ring.take(now, 60)
    assert packets[0].keyframe
    assert 8.5 <= now - packets[0].wall <= 10.0


def test_audio_is_kept_when_switched_on() -> None:
    ring = Ring(5, 1 << 30, keep_audio=True)
    now = _feed(ring, 8)
    packets = ring.take(now, 5)
    assert {p.stream for p in packets} == {VIDEO, AUDIO}
    assert packets[0].stream == VIDEO and packets[0].keyframe


def test_nothing_before_the_first_keyframe_is_held() -> None:
    ring = Ring(5, 1 << 30, keep_audio=False)
    ring.push(Packet(VIDEO, b"x", 1, 1, 1, Fraction(1, FPS), False, 1.0))
    assert ring.take(2.0, 5) == [] and ring.bytes == 0
