"""What the demo officers say: short spoken lines mixed into the demo footage's sound, so
transcripts, captions and search have real speech to find (issue 16).

The sound ships as small Opus files in voices/ (made once by tools/make_demo_speech.py
with espeak-ng), so `make demo` needs no speech synthesiser. Each line belongs to a
recording of the demo plan (by its index) and starts at a fixed second of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

VOICES_DIR = Path(__file__).resolve().parent / "voices"
GAIN = 0.9


@dataclass(frozen=True, slots=True)
class Line:
    key: str
    recording: int  # index in seed.plan()
    at_s: float  # seconds from the recording's first frame
    speaker: str
    text: str


# espeak-ng voice and words per minute for each speaker.
VOICES: dict[str, tuple[str, int]] = {
    "patel": ("en-gb+f3", 150),
    "okafor": ("en-gb-x-rp", 135),
    "kowalski": ("en-gb-scotland+f2", 145),
    "hughes": ("en-gb", 150),
    "chen": ("en-gb+f4", 140),
    "member": ("en-gb-x-rp+m3", 145),
}

LINES: tuple[Line, ...] = (
    Line("armed-1", 0, 6.0, "patel", "Armed police! Drop the weapon! Drop it now!"),
    Line("armed-2", 0, 27.0, "patel", "Show me your hands. Get down on the ground."),
    Line("armed-3", 1, 7.0, "okafor", "Armed police. Stay where you are on Horseferry Road."),
    Line(
        "armed-4",
        2,
        8.0,
        "kowalski",
        "This is Sergeant Kowalski. The subject is detained. Call an ambulance.",
    ),
    Line(
        "search-1",
        3,
        5.0,
        "hughes",
        "I am PC Hughes from Westminster. I am searching you under section one on Victoria Street.",
    ),
    Line(
        "domestic-1",
        4,
        5.0,
        "chen",
        "Police. We were called to a domestic incident in Pimlico. Is anyone hurt?",
    ),
    Line(
        "search-2", 5, 6.0, "hughes", "The reference for this stop is C A D, two nine five seven."
    ),
    Line("domestic-2", 6, 6.0, "member", "He pushed her against the door. I can't breathe."),
    Line(
        "search-3",
        7,
        6.0,
        "hughes",
        "Nothing was found. You are free to go. Here is your receipt.",
    ),
)


def lines_for(recording: int) -> list[Line]:
    return [line for line in LINES if line.recording == recording]


@lru_cache(maxsize=16)
def voice(key: str, rate: int) -> np.ndarray:
    """The line's sound as mono float32 samples at `rate`."""
    with av.open(str(VOICES_DIR / f"{key}.ogg")) as source:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [
            out.to_ndarray().reshape(-1)
            for frame in source.decode(audio=0)
            for out in resampler.resample(frame)
        ]
        chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32) * GAIN


def speech_track(
    recording: int, clip_start_s: float, clip_s: float, rate: int
) -> np.ndarray | None:
    """The recording's spoken lines that fall inside one clip (from `clip_start_s`, for
    `clip_s` seconds), as samples at `rate` to add to its sound; None if it has none."""
    lines = lines_for(recording)
    if not lines:
        return None
    n = round(clip_s * rate)
    track = np.zeros(n, dtype=np.float32)
    for line in lines:
        sound = voice(line.key, rate)
        at = round((line.at_s - clip_start_s) * rate)
        lo, hi = max(0, at), min(n, at + len(sound))
        if lo < hi:
            track[lo:hi] += sound[lo - at : hi - at]
    return track if track.any() else None
