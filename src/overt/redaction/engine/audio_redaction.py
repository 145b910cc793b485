"""Redacted audio: ranges of the recording muted or replaced by a tone, as the shared AAC
encoder encodes each chunk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import av
import numpy as np

from overt.media.audio import AacEncoder

AUDIO_MODES = ("mute", "bleep")
BLEEP_HZ = 1000.0
BLEEP_LEVEL = 0.25


@dataclass(frozen=True, slots=True)
class AudioRange:
    start_s: float
    end_s: float
    mode: str = "mute"

    def __post_init__(self) -> None:
        if self.mode not in AUDIO_MODES:
            raise ValueError(f"audio range mode must be one of {', '.join(AUDIO_MODES)}")
        if not (0 <= self.start_s < self.end_s):
            raise ValueError("an audio range must start at or after 0 and end after it starts")


class AudioRedactor:
    """Mutes or bleeps the redacted ranges in each chunk the shared AAC encoder encodes.

    Sample n plays at n / rate seconds on the recording's timeline (zero at the earliest
    stream start), the same clock as the video frames' times.
    """

    def __init__(self, ranges: Sequence[AudioRange]) -> None:
        self.ranges = list(ranges)

    def __call__(self, chunk: av.AudioFrame, start: int, rate: int) -> av.AudioFrame:
        end = start + chunk.samples
        spans = [(round(r.start_s * rate), round(r.end_s * rate), r.mode) for r in self.ranges]
        hits = [(a, b, m) for a, b, m in spans if a < end and b > start]
        if not hits:
            return chunk
        samples = chunk.to_ndarray().copy()  # (channels, n) float32, planar
        for a, b, mode in hits:
            lo, hi = max(a, start) - start, min(b, end) - start
            if mode == "mute":
                samples[:, lo:hi] = 0.0
            else:
                n = np.arange(start + lo, start + hi)
                samples[:, lo:hi] = BLEEP_LEVEL * np.sin(2 * np.pi * BLEEP_HZ * n / rate)
        redacted = av.AudioFrame.from_ndarray(
            samples.astype(np.float32), format="fltp", layout=chunk.layout.name
        )
        redacted.sample_rate = rate
        return redacted


def redacted_audio(
    out: av.container.OutputContainer,
    ain: av.audio.AudioStream,
    t0: float,
    ranges: Sequence[AudioRange],
) -> AacEncoder:
    """Audio re-encoded by the shared AAC encoder, with the ranges muted or bleeped."""
    shape = AudioRedactor(ranges) if ranges else None
    return AacEncoder(out, ain, t0, bit_rates=(96_000, 160_000), shape=shape)
