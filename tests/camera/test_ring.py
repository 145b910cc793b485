"""The pre-event ring: starts at a keyframe within one GOP of the setting, bounded in
bytes, video only unless audio in the buffer is on."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

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
    packets = list(ring.take(now, setting))
    first = packets[0]
    assert first.stream == VIDEO and first.keyframe
    assert abs((now - first.wall) - setting) <= GOP / FPS
    assert all(p.stream == VIDEO for p in packets)  # video only by default
    assert packets[-1].wall == now


def test_the_byte_cap_drops_whole_gops_and_the_real_length_is_shorter() -> None:
    ring = Ring(60, 10 * GOP * 1000, keep_audio=False)  # room for about 10 s
    now = _feed(ring, 40)
    assert ring.bytes <= 10 * GOP * 1000
    packets = list(ring.take(now, 60))
    assert packets[0].keyframe
    assert 8.5 <= now - packets[0].wall <= 10.0


def test_audio_is_kept_when_switched_on() -> None:
    ring = Ring(5, 1 << 30, keep_audio=True)
    now = _feed(ring, 8)
    packets = list(ring.take(now, 5))
    assert {p.stream for p in packets} == {VIDEO, AUDIO}
    assert packets[0].stream == VIDEO and packets[0].keyframe


def test_nothing_before_the_first_keyframe_is_held() -> None:
    ring = Ring(5, 1 << 30, keep_audio=False)
    ring.push(Packet(VIDEO, b"x", 1, 1, 1, Fraction(1, FPS), False, 1.0))
    assert list(ring.take(2.0, 5)) == [] and ring.bytes == 0


def _distinct(index: int, size: int) -> bytes:
    return index.to_bytes(4, "big") * (size // 4)


@pytest.mark.parametrize("sealed", [False, True])
def test_packets_come_back_byte_for_byte_after_the_ring_file_wraps(
    tmp_path: Path, sealed: bool
) -> None:
    cap = 7 * GOP * 1000 + 123  # not a multiple of a packet: writes wrap mid-file
    ring = Ring(60, cap, keep_audio=False, folder=tmp_path, sealed=sealed)
    sent = {}
    now = 0.0
    for index in range(40 * FPS):
        now = 1000 + index / FPS
        data = _distinct(index, 1000)
        sent[index] = data
        ring.push(Packet(VIDEO, data, index, index, 1, Fraction(1, FPS), index % GOP == 0, now))
    assert ring.bytes <= cap
    packets = list(ring.take(now, 60))
    assert packets[0].keyframe and len(packets) >= 5 * GOP
    assert [p.data for p in packets] == [sent[p.pts] for p in packets]
    assert [p.pts for p in packets] == list(range(packets[0].pts, packets[-1].pts + 1))
    ring.close()


def test_the_ring_keeps_packet_bytes_on_disk_not_in_memory(tmp_path: Path) -> None:
    ring = Ring(60, 1 << 30, keep_audio=False, folder=tmp_path)
    _feed(ring, 10, size=50_000)
    entries = [e for g in ring._gops for e in g.entries]
    assert len(entries) == 10 * FPS and not any(hasattr(e, "data") for e in entries)
    assert ring.bytes == 10 * FPS * 50_000
    ring.close()


def test_a_sealed_ring_file_holds_no_plaintext(tmp_path: Path) -> None:
    ring = Ring(60, 1 << 20, keep_audio=False, folder=tmp_path, sealed=True)
    marker = b"FACE-OF-A-WITNESS" * 10
    ring.push(Packet(VIDEO, marker, 0, 0, 1, Fraction(1, FPS), True, 1.0))
    raw = os.pread(ring._file.fileno(), 1 << 20, 0)
    assert marker[:17] not in raw and len(raw) == len(marker) + 16
    assert next(ring.take(1.0, 5)).data == marker
    ring.close()
