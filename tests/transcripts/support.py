"""Sound files for the transcript tests: the demo's real spoken lines and bad input."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from overt.demo.speech import VOICES_DIR

DATA = Path(__file__).resolve().parent / "data"
GERMAN = DATA / "german.ogg"


def voice(key: str) -> Path:
    return VOICES_DIR / f"{key}.ogg"


def write_sound(path: Path, samples: np.ndarray, rate: int = 16_000) -> Path:
    """Mono float samples as an AAC track in an MP4 (like a camera's sound)."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=rate, layout="mono")
        for start in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(
                samples[None, start : start + 1024].astype(np.float32), format="flt", layout="mono"
            )
            frame.sample_rate = rate
            frame.pts = start
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def decode(path: Path, rate: int = 16_000) -> np.ndarray:
    with av.open(str(path)) as source:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        parts = [
            out.to_ndarray().reshape(-1)
            for frame in source.decode(audio=0)
            for out in resampler.resample(frame)
        ]
    return np.concatenate(parts).astype(np.float32)
