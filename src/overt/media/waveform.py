"""Waveform peaks of a recording's sound, for the player's scrub bar.

Reads `src` and writes `dst` (compact JSON); the caller stores the file and records
provenance with overt.media.derivatives' GENERATOR / GENERATOR_VERSION, like the other
browser derivatives. Pure: no Django.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from .derivatives import require_playable, start_seconds


@dataclass(frozen=True, slots=True)
class WaveformResult:
    has_audio: bool
    sample_rate: int | None
    peaks_per_second: int
    count: int
    duration_s: float
    size: int


def make_waveform(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], peaks_per_second: int = 50
) -> WaveformResult:
    """Mono min/max peaks, `peaks_per_second` pairs per second, as compact JSON.

    Peak i covers [i, i+1) / peaks_per_second seconds of the same timeline as the
    proxy (zero at the earliest stream start).
    """
    if not 1 <= peaks_per_second <= 1000:
        raise ValueError("peaks_per_second must be between 1 and 1000")
    info = require_playable(src)
    sample_rate: int | None = None
    peaks: list[list[float]] = []
    duration = info.duration_s or 0.0
    with av.open(os.fspath(src)) as inp:
        ain = inp.streams.audio[0] if inp.streams.audio else None
        if ain is not None:
            sample_rate = ain.codec_context.sample_rate
            meter = _PeakMeter(sample_rate, peaks_per_second)
            t0 = start_seconds(inp.streams.video[0], ain)
            resampler = av.AudioResampler(format="fltp", rate=sample_rate)
            first = True
            for packet in inp.demux(ain):
                try:
                    decoded = packet.decode()
                except av.FFmpegError:
                    continue
                for frame in decoded:
                    for plain in resampler.resample(frame):
                        samples = plain.to_ndarray().mean(axis=0)
                        if first:
                            first = False
                            lead = round(((plain.time or t0) - t0) * sample_rate)
                            samples = _align_start(samples, lead)
                        meter.feed(samples)
            peaks = meter.finish()
            duration = meter.total / sample_rate if meter.total else duration
    document: dict[str, Any] = {
        "version": 1,
        "has_audio": ain is not None,
        "sample_rate": sample_rate,
        "peaks_per_second": peaks_per_second,
        "channels": 1,
        "duration_s": round(duration, 4),
        "peaks": peaks,
    }
    with open(os.fspath(dst), "w", encoding="utf-8") as fh:
        json.dump(document, fh, separators=(",", ":"))
    return WaveformResult(
        has_audio=ain is not None,
        sample_rate=sample_rate,
        peaks_per_second=peaks_per_second,
        count=len(peaks),
        duration_s=document["duration_s"],
        size=os.path.getsize(dst),
    )


def _align_start(samples: np.ndarray, lead: int) -> np.ndarray:
    """Pad with silence (audio starts late) or drop samples (starts early)."""
    if lead > 0:
        return np.concatenate([np.zeros(lead, dtype=samples.dtype), samples])
    return samples[-lead:] if lead < 0 else samples


class _PeakMeter:
    """Streaming min/max per bucket; bucket k spans samples [k*sr//pps, (k+1)*sr//pps)."""

    def __init__(self, sample_rate: int, per_second: int) -> None:
        self.rate, self.per_second = sample_rate, per_second
        self.pending = np.zeros(0, dtype=np.float32)
        self.base = 0  # global index of pending[0]
        self.bucket = 0  # index of the next bucket to emit
        self.total = 0
        self.mins: list[np.ndarray] = []
        self.maxs: list[np.ndarray] = []

    def feed(self, samples: np.ndarray) -> None:
        self.total += len(samples)
        self.pending = np.concatenate([self.pending, samples.astype(np.float32)])
        complete = (self.base + len(self.pending)) * self.per_second // self.rate
        if complete <= self.bucket:
            return
        edges = np.arange(self.bucket, complete + 1) * self.rate // self.per_second - self.base
        body = self.pending[: edges[-1]]
        self.mins.append(np.minimum.reduceat(body, edges[:-1]))
        self.maxs.append(np.maximum.reduceat(body, edges[:-1]))
        self.pending = self.pending[edges[-1] :]
        self.base += int(edges[-1])
        self.bucket = int(complete)

    def finish(self) -> list[list[float]]:
        if len(self.pending):
            self.mins.append(self.pending.min(keepdims=True))
            self.maxs.append(self.pending.max(keepdims=True))
            self.pending = self.pending[:0]
        if not self.mins:
            return []
        lows = np.clip(np.round(np.concatenate(self.mins).astype(np.float64), 4), -1, 1) + 0.0
        highs = np.clip(np.round(np.concatenate(self.maxs).astype(np.float64), 4), -1, 1) + 0.0
        return [[float(lo), float(hi)] for lo, hi in zip(lows, highs, strict=True)]
