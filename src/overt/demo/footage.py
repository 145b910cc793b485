"""Deterministic synthetic body-worn-video clips for demos and tests.

Each clip is an ordinary camera-style MP4 (H.264 + AAC, index at the end) showing
moving shapes under a burned-in overlay: device serial, officer number and the UTC
wall-clock time of every frame.

The audio is a per-camera noise bed plus short "world events": sounds that happen at
pseudo-random wall-clock instants fixed by a world seed, not by the clip. Clips whose
wall-clock spans overlap therefore contain the same events at the same instants, which
is what a multi-camera sync job needs to cross-correlate them.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .faces import Passersby

AUDIO_RATE = 48_000
WORLD_EVENT_SLOT_S = 4  # one world event per 4 s of Unix time
EVENT_DURATION_S = 0.06
_AUDIO_CHUNK = 1024  # samples per AAC frame
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ClipFacts:
    path: str
    sha256: str
    size: int
    duration_s: float
    width: int
    height: int
    fps: float
    start_utc: datetime
    stop_utc: datetime


@dataclass(frozen=True, slots=True)
class CorruptClipFacts:
    path: str
    sha256: str
    size: int
    reason: str


def world_audio_events(start_utc: datetime, duration_s: float, world_seed: int = 0) -> list[float]:
    """Offsets (s, from clip start) of the world events falling inside this clip.

    World event k happens at a seeded instant (whole milliseconds) inside the k-th
    `WORLD_EVENT_SLOT_S`-second slot of Unix time, so every clip sees the same ones.
    """
    start_ms = _epoch_ms(start_utc)
    first_slot = math.floor(start_ms / 1000 / WORLD_EVENT_SLOT_S)
    last_slot = math.floor((start_ms / 1000 + duration_s) / WORLD_EVENT_SLOT_S)
    offsets = []
    for slot in range(first_slot, last_slot + 1):
        offset = (_world_event_ms(world_seed, slot) - start_ms) / 1000
        if 0 <= offset < duration_s:
            offsets.append(offset)
    return offsets


def render_clip(
    path: str | os.PathLike[str],
    *,
    seed: int,
    start_utc: datetime,
    duration_s: float,
    device_serial: str,
    officer_number: str,
    width: int = 1280,
    height: int = 720,
    fps: float = 25,
    with_audio: bool = True,
    audio_events: list[float] | None = None,
    world_seed: int = 0,
    rotation: int = 0,
    clock_error_s: float = 0.0,
    speech: np.ndarray | None = None,
    faces: bool = False,
) -> ClipFacts:
    """Write a synthetic clip to `path` and return its facts.

    `start_utc` is the camera's clock: the overlay, the file's creation time and the
    facts say it. `clock_error_s` is how far that clock is ahead of true time (negative:
    behind), so the world, and its sounds, happened at `start_utc - clock_error_s`.
    `audio_events` are offsets (s) of event sounds; None means the world events for
    this clip's true wall-clock span (see `world_audio_events`). `rotation` (clockwise
    degrees) is written as a display matrix, like a camera mounted sideways. Odd
    dimensions are encoded 4:4:4, since 4:2:0 needs even ones. `speech` (mono samples
    at AUDIO_RATE from the clip's start; demo.speech) is mixed into the sound. `faces`
    adds real faces walking through the scene (demo.faces), for redaction.
    """
    path = os.fspath(path)
    start_utc = start_utc.astimezone(UTC)
    world_start = start_utc - timedelta(seconds=clock_error_s)
    rate = Fraction(fps).limit_denominator(1001)
    n_frames = max(1, round(duration_s * rate))
    if audio_events is None:
        audio_events = world_audio_events(world_start, duration_s, world_seed)

    scene = _Scene(seed, width, height)
    walkers = Passersby(seed, width, height, float(n_frames / rate)) if faces else None
    overlay = _Overlay(width, height, f"{device_serial}   OFFICER {officer_number}")
    audio = (
        _render_audio(seed, world_seed, world_start, n_frames / rate, audio_events)
        if with_audio
        else None
    )
    if audio is not None and speech is not None:
        n = min(len(audio), len(speech))
        audio[:n] = np.clip(audio[:n] + speech[:n], -1.0, 1.0)

    with av.open(path, mode="w", format="mp4") as out:
        out.metadata["creation_time"] = start_utc.isoformat().replace("+00:00", "Z")
        video = out.add_stream(
            "libx264",
            rate=rate,
            options={"preset": "ultrafast", "crf": "26", "tune": "zerolatency"},
        )
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        video.gop_size = max(1, round(float(rate)))  # cameras use ~1 s GOPs
        if rotation % 360:
            video.set_display_rotation(-rotation)  # PyAV takes counter-clockwise
        sound = out.add_stream("aac", rate=AUDIO_RATE, layout="mono") if audio is not None else None

        next_sample = 0
        for index in range(n_frames):
            when = start_utc + timedelta(microseconds=round(index * 1_000_000 / rate))
            picture = scene.draw(index / float(rate))
            if walkers is not None:
                walkers.draw(picture, index / float(rate))
            overlay.stamp(picture, when)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            out.mux(video.encode(frame))
            if sound is not None and audio is not None:
                # Keep audio level with video so the file interleaves like a camera's.
                due = min(len(audio), round((index + 1) / rate * AUDIO_RATE))
                while next_sample < due:
                    out.mux(sound.encode(_audio_frame(audio, next_sample)))
                    next_sample += _AUDIO_CHUNK
        out.mux(video.encode())
        if sound is not None and audio is not None:
            while next_sample < len(audio):
                out.mux(sound.encode(_audio_frame(audio, next_sample)))
                next_sample += _AUDIO_CHUNK
            out.mux(sound.encode())

    actual = float(n_frames / rate)
    return ClipFacts(
        path=path,
        sha256=_sha256(path),
        size=os.path.getsize(path),
        duration_s=actual,
        width=width,
        height=height,
        fps=float(rate),
        start_utc=start_utc,
        stop_utc=start_utc + timedelta(seconds=actual),
    )


def write_corrupt_clip(path: str | os.PathLike[str], seed: int) -> CorruptClipFacts:
    """Write a clip as a camera that lost power would leave it: cut mid-`mdat`.

    The MP4 index (`moov`) is written last, so truncation removes it and the file is
    unplayable. A few payload bytes are also flipped, deterministically from `seed`.
    """
    path = os.fspath(path)
    render_clip(
        path,
        seed=seed,
        start_utc=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=seed),
        duration_s=3,
        device_serial=f"CORRUPT-{seed}",
        officer_number="0000",
        width=320,
        height=180,
    )
    with open(path, "rb") as fh:
        data = bytearray(fh.read())
    mdat = data.find(b"mdat")
    if mdat < 0 or data.find(b"moov") < mdat:
        raise RuntimeError("expected a camera-style MP4 with the index after the media data")
    keep = mdat + (len(data) - mdat) * 6 // 10
    del data[keep:]
    rng = np.random.default_rng(seed)
    for position in rng.integers(mdat + 64, keep, size=16):
        data[int(position)] ^= 0xFF
    with open(path, "wb") as fh:
        fh.write(data)
    return CorruptClipFacts(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        reason="truncated mid-mdat (no moov index) with flipped payload bytes",
    )


# --- pictures -----------------------------------------------------------------------


class _Scene:
    """A seeded static backdrop with a little camera shake and bouncing shapes."""

    _MARGIN = 6

    def __init__(self, seed: int, width: int, height: int) -> None:
        rng = np.random.default_rng(seed)
        self.width, self.height = width, height
        m = self._MARGIN
        top, bottom = rng.integers(30, 200, size=(2, 3))
        ramp = np.linspace(0.0, 1.0, height + 2 * m)[:, None, None]
        backdrop = (top * (1 - ramp) + bottom * ramp).astype(np.uint8)
        backdrop = np.repeat(backdrop, width + 2 * m, axis=1)
        for _ in range(8):  # static "buildings"
            w = int(rng.integers(width // 12 + 1, width // 4 + 2))
            h = int(rng.integers(height // 6 + 1, height // 2 + 2))
            x = int(rng.integers(0, width + 2 * m - w + 1))
            backdrop[height + 2 * m - h :, x : x + w] = rng.integers(20, 120, size=3)
        self.backdrop = backdrop
        self.shake = rng.uniform(0.5, 2.0, size=2)

        self.shapes: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for _ in range(6):
            size = int(rng.integers(max(2, height // 12), max(3, height // 4)))
            mask = np.ones((size, size), dtype=bool)
            if rng.random() < 0.5:  # a disc rather than a square
                yy, xx = np.ogrid[:size, :size]
                r = (size - 1) / 2
                mask = (yy - r) ** 2 + (xx - r) ** 2 <= r * r
            origin = rng.uniform(0, 1, size=2) * [max(1, width - size), max(1, height - size)]
            velocity = rng.uniform(-0.35, 0.35, size=2) * [width, height]
            colour = rng.integers(60, 256, size=3).astype(np.uint8)
            self.shapes.append((mask, origin, velocity, colour))

    def draw(self, t: float) -> np.ndarray:
        m = self._MARGIN
        dx = round(m * math.sin(t * self.shake[0] * 2 * math.pi) * 0.8) + m
        dy = round(m * math.sin(t * self.shake[1] * 2 * math.pi) * 0.8) + m
        picture = self.backdrop[dy : dy + self.height, dx : dx + self.width].copy()
        for mask, origin, velocity, colour in self.shapes:
            size = mask.shape[0]
            x = _bounce(origin[0] + velocity[0] * t, self.width - size)
            y = _bounce(origin[1] + velocity[1] * t, self.height - size)
            picture[y : y + size, x : x + size][mask] = colour
        return picture


def _bounce(position: float, limit: int) -> int:
    """Position reflected off the walls [0, limit] (a triangle wave)."""
    if limit <= 0:
        return 0
    period = 2 * limit
    p = position % period
    return int(p if p <= limit else period - p)


class _Overlay:
    """Burned-in camera text: identity line plus per-frame UTC time."""

    def __init__(self, width: int, height: int, identity: str) -> None:
        size = max(8, height // 22)
        self.font = _font(size)
        self.pad = max(2, size // 4)
        self.line = size + self.pad
        self.band = np.zeros((2 * self.line + self.pad, width, 3), dtype=np.uint8)
        ident = Image.new("RGB", (width, self.line), (0, 0, 0))
        ImageDraw.Draw(ident).text(
            (self.pad, self.pad // 2), identity, fill=(255, 255, 255), font=self.font
        )
        self.band[: self.line] = np.asarray(ident)
        self.width = width

    def stamp(self, picture: np.ndarray, when: datetime) -> None:
        text = when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}"
        line = Image.new("RGB", (self.width, self.line + self.pad), (0, 0, 0))
        ImageDraw.Draw(line).text((self.pad, 0), text, fill=(255, 230, 0), font=self.font)
        rows = min(picture.shape[0], self.band.shape[0])
        self.band[self.line :] = np.asarray(line)
        picture[:rows] = self.band[:rows]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without sized default font
        return ImageFont.load_default()


# --- sound --------------------------------------------------------------------------


def _render_audio(
    seed: int,
    world_seed: int,
    start_utc: datetime,
    duration_s: Fraction | float,  # exact frames / rate: the sample count rounds once
    events: list[float],
) -> np.ndarray:
    rng = np.random.default_rng([seed, 0xA0D10])
    n = round(duration_s * AUDIO_RATE)
    signal = rng.normal(0.0, 0.015, size=n).astype(np.float32)
    gain = float(rng.uniform(0.5, 0.9))  # each camera hears the world at its own level
    start_ms = _epoch_ms(start_utc)
    for offset in events:
        at = round(offset * AUDIO_RATE)
        # The sound depends on the wall-clock instant only, so cameras agree on it.
        sound = gain * _event_sound(world_seed, round(start_ms + offset * 1000))
        end = min(n, at + len(sound))
        if 0 <= at < n:
            signal[at:end] += sound[: end - at]
    return np.clip(signal, -1.0, 1.0)


def _event_sound(world_seed: int, instant_ms: int) -> np.ndarray:
    """A short, distinctive burst (seeded noise + tone) with a sharp onset."""
    rng = np.random.default_rng([world_seed, instant_ms & 0xFFFFFFFF, instant_ms >> 32])
    n = round(EVENT_DURATION_S * AUDIO_RATE)
    t = np.arange(n) / AUDIO_RATE
    tone = np.sin(2 * np.pi * rng.uniform(400, 2400) * t)
    noise = rng.uniform(-1.0, 1.0, size=n)
    envelope = np.exp(-t / (EVENT_DURATION_S / 4))
    return (0.9 * envelope * (0.5 * tone + 0.5 * noise)).astype(np.float32)


def _audio_frame(audio: np.ndarray, start: int) -> av.AudioFrame:
    chunk = audio[start : start + _AUDIO_CHUNK]
    frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
    frame.sample_rate = AUDIO_RATE
    frame.pts = start
    return frame


# --- helpers ------------------------------------------------------------------------


def _epoch_ms(when: datetime) -> float:
    return (when.astimezone(UTC) - _EPOCH) / timedelta(milliseconds=1)


def _world_event_ms(world_seed: int, slot: int) -> int:
    digest = hashlib.sha256(f"overt-world:{world_seed}:{slot}".encode()).digest()
    jitter_ms = int.from_bytes(digest[:4], "big") % ((WORLD_EVENT_SLOT_S - 1) * 1000)
    return slot * WORLD_EVENT_SLOT_S * 1000 + 500 + jitter_ms


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
