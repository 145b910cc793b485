"""How far apart two cameras' clocks are, from their audio.

Two body-worn cameras at one scene hear the same sounds. Each clip is decoded to mono
at a low rate (8 kHz), both are laid on one wall-clock grid by the times their cameras
claim, and the generalised cross-correlation with phase transform (GCC-PHAT) finds the
shift that lines them up best; a parabola through the peak gives a fraction of a
sample. How far the peak stands above the highest sidelobe (the best lag elsewhere,
more than 10 ms away) gives the confidence: about 1x for unrelated sounds, several
times for a real match.

Pure numpy; PyAV decodes. No file is written and nothing about the evidence changes.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import av
import numpy as np

from overt.media.derivatives import start_seconds

RATE = 8_000  # Hz: sounds that matter (voices, shots, sirens) have energy below 4 kHz
MAX_LAG_S = 15.0  # camera clocks further apart than this are not searched for
MIN_OVERLAP_S = 2.0
PHAT_BETA = 0.8  # partial whitening: 1.0 is pure PHAT, which noise floors can swamp
EXCLUDE_S = 0.010  # around the peak, left out of the sidelobe statistics
PSR_FLOOR, PSR_FULL = 1.5, 4.0  # peak-to-sidelobe ratio at confidence 0 and 1
ESTIMATOR = f"overt.review.sync gcc-phat beta={PHAT_BETA} rate={RATE} v1"


class SyncError(Exception):
    """The pair cannot be compared (no audio, no overlap)."""


@dataclass(frozen=True, slots=True)
class Audio:
    samples: np.ndarray  # float32 mono at RATE
    start_s: float  # where samples[0] sits on the clip's own timeline (0 = first picture)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / RATE


@dataclass(frozen=True, slots=True)
class Estimate:
    offset_s: float  # add to the second clip's start time to line it up with the first
    confidence: float  # 0..1
    peak_ratio: float  # peak-to-sidelobe ratio
    overlap_s: float  # seconds of audio compared

    @property
    def level(self) -> str:
        return confidence_level(self.confidence)


def confidence_level(confidence: float | None) -> str:
    if confidence is None:
        return "none"
    return "high" if confidence >= 0.7 else "medium" if confidence >= 0.35 else "low"


def decode_audio(path: str | os.PathLike[str]) -> Audio:
    """The first audio stream as mono float32 at RATE, placed on the clip's timeline.

    Decoded frames are gathered raw and resampled a few seconds at a time: one call per
    AAC frame (21 ms) would spend longer in Python than FFmpeg spends decoding.
    """
    with av.open(os.fspath(path)) as container:
        if not container.streams.audio:
            raise SyncError(f"{os.fspath(path)}: no audio to compare")
        stream = container.streams.audio[0]
        # Every decoding stream has thread_type; PyAV's stubs give it to video ones only.
        stream.thread_type = "AUTO"  # type: ignore[attr-defined]
        video = container.streams.video[0] if container.streams.video else None
        zero = start_seconds(video, stream) if video is not None else 0.0
        down = _Downsampler()
        first: float | None = None
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue  # a damaged packet: its few milliseconds stay silent
            for frame in frames:
                if first is None and frame.time is not None:
                    first = float(frame.time)
                down.push(frame)
        samples = down.finish()
    if not len(samples):
        raise SyncError(f"{os.fspath(path)}: the audio could not be decoded")
    return Audio(samples, (first if first is not None else zero) - zero)


class _Downsampler:
    """Mono float32 at the source rate, buffered, then resampled to RATE in chunks."""

    CHUNK_S = 10

    def __init__(self) -> None:
        self.rate: int | None = None
        self.pending: list[np.ndarray] = []
        self.pending_samples = 0
        self.out: list[np.ndarray] = []
        self.resampler: av.AudioResampler | None = None
        self.to_mono: av.AudioResampler | None = None

    def push(self, frame: av.AudioFrame) -> None:
        if self.rate is None:
            self.rate = frame.sample_rate
            self.resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        if frame.format.name == "fltp" and len(frame.layout.channels) == 1:
            # An AudioPlane is a buffer; numpy's stubs accept only built-in ones.
            plane = frame.planes[0]
            mono = [np.frombuffer(plane, dtype=np.float32, count=frame.samples)]  # type: ignore[call-overload]
        else:  # other layouts and formats: FFmpeg mixes them down (slower, and rare)
            if self.to_mono is None:
                self.to_mono = av.AudioResampler(format="fltp", layout="mono", rate=self.rate)
            mono = [f.to_ndarray().reshape(-1) for f in self.to_mono.resample(frame)]
        for part in mono:
            self.pending.append(part.astype(np.float32, copy=True))
            self.pending_samples += len(part)
        if self.pending_samples >= self.CHUNK_S * self.rate:
            self._resample()

    def _resample(self, final: bool = False) -> None:
        assert self.resampler is not None and self.rate is not None
        if self.pending:
            block = np.concatenate(self.pending).reshape(1, -1)
            self.pending, self.pending_samples = [], 0
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="mono")
            frame.sample_rate = self.rate
            self.out += [f.to_ndarray().reshape(-1) for f in self.resampler.resample(frame)]
        if final:
            self.out += [f.to_ndarray().reshape(-1) for f in self.resampler.resample(None)]

    def finish(self) -> np.ndarray:
        if self.resampler is None:
            return np.zeros(0, dtype=np.float32)
        self._resample(final=True)
        return (
            np.concatenate(self.out).astype(np.float32, copy=False)
            if self.out
            else np.zeros(0, np.float32)
        )


def decode_pair(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> tuple[Audio, Audio]:
    """Both decoded at once: PyAV lets go of the GIL while it decodes."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.submit(decode_audio, a), pool.submit(decode_audio, b)
        return first.result(), second.result()


def estimate_offset(
    a: Audio,
    a_start: float,
    b: Audio,
    b_start: float,
    max_lag_s: float = MAX_LAG_S,
) -> Estimate:
    """How much later than its camera says `b` really started, taking `a` as true.

    `a_start` and `b_start` are the clips' claimed start times in seconds on any common
    scale (e.g. Unix time).
    """
    lag = round(max_lag_s * RATE)
    a_at = a_start + a.start_s  # claimed wall time of each first sample
    b_at = b_start + b.start_s
    begin = max(a_at, b_at)
    end = min(a_at + a.duration_s, b_at + b.duration_s)
    if end - begin < MIN_OVERLAP_S:
        raise SyncError(
            f"the clips overlap by {max(0.0, end - begin):.1f} s; too little to compare"
        )
    # The grid starts `lag` samples before the claimed overlap: b's overlap sits at
    # [lag, lag + n_b), and a is taken `lag` further on each side, where it has audio.
    origin = begin - max_lag_s
    x = _window(a, a_at, origin, begin - max_lag_s, end + max_lag_s)
    y = _window(b, b_at, origin, begin, end)
    size = _fast_length(max(len(x), len(y)) + lag + 1)
    spectrum = np.fft.rfft(x, size) * np.conj(np.fft.rfft(y, size))
    magnitude = np.abs(spectrum)
    spectrum /= np.maximum(magnitude, magnitude.max() * 1e-9 + 1e-20) ** PHAT_BETA
    correlation = np.fft.irfft(spectrum, size)
    # r[k] = sum x[n + k] y[n]: a peak at k > 0 means a hears b's sounds k samples after
    # b's camera says they happened, so b really started k samples later than it claims.
    lags = np.concatenate([correlation[-lag:], correlation[: lag + 1]])  # k = -lag .. lag
    peak = int(np.argmax(lags))
    shift = _parabolic(lags, peak)
    offset_s = (peak + shift - lag) / RATE
    ratio = _peak_to_sidelobe(lags, peak)
    confidence = float(np.clip((ratio - PSR_FLOOR) / (PSR_FULL - PSR_FLOOR), 0.0, 1.0))
    return Estimate(float(offset_s), confidence, float(ratio), float(end - begin))


def _window(audio: Audio, at: float, origin: float, start: float, stop: float) -> np.ndarray:
    """`audio`'s samples between wall times start and stop, on a grid from `origin`
    (zeros where the clip has no sound)."""
    first = max(0, math.floor((start - at) * RATE))
    last = min(len(audio.samples), math.ceil((stop - at) * RATE))
    place = round((at - origin) * RATE) + first
    if place < 0:  # rounding put the first sample just before the grid
        first, place = first - place, 0
    out = np.zeros(place + max(0, last - first), dtype=np.float32)
    if last > first:
        out[place:] = audio.samples[first:last]
    return out


def _parabolic(values: np.ndarray, peak: int) -> float:
    """Fractional position of the true peak between its neighbours (-0.5 .. 0.5)."""
    if peak == 0 or peak == len(values) - 1:
        return 0.0
    left, centre, right = (float(v) for v in values[peak - 1 : peak + 2])
    denominator = left - 2 * centre + right
    if denominator >= 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / denominator, -0.5, 0.5))


def _peak_to_sidelobe(values: np.ndarray, peak: int) -> float:
    """The peak over the highest sidelobe: the largest value more than EXCLUDE_S away.

    Unrelated sounds give a ratio near 1 (some lag always wins by a little); a real
    match stands several times above everything else.
    """
    guard = max(1, round(EXCLUDE_S * RATE))
    mask = np.ones(len(values), dtype=bool)
    mask[max(0, peak - guard) : peak + guard + 1] = False
    if not mask.any():
        return 0.0
    sidelobe = float(np.abs(values[mask]).max())
    return float(values[peak]) / sidelobe if sidelobe > 0 else 0.0


def _fast_length(n: int) -> int:
    """The smallest 2^a 3^b 5^c at or above n (FFT sizes numpy transforms quickly)."""
    best = 1 << max(0, (n - 1).bit_length())
    five = 1
    while five < best:
        three = five
        while three < best:
            size = three
            while size < n:
                size *= 2
            best = min(best, size)
            three *= 3
        five *= 5
    return best
