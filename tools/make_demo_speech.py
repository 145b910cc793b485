"""Regenerate the demo footage's speech (src/overt/demo/voices/*.ogg) with espeak-ng.

The demo ships these small Opus files, so `make demo` needs no speech synthesiser; run
this only to change the lines (apt-get install espeak-ng). The texts are the demo's
(overt.demo.speech.LINES); the voices and rates vary so the speakers differ.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from overt.demo.speech import LINES, VOICES

RATE = 24_000


def main() -> None:
    for line in LINES:
        voice, speed = VOICES[line.speaker]
        with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(speed), "-w", wav.name, line.text],
                check=True,
            )
            with av.open(wav.name) as source:
                resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
                chunks = [
                    out.to_ndarray().reshape(-1)
                    for frame in source.decode(audio=0)
                    for out in resampler.resample(frame)
                ]
        samples = np.concatenate(chunks).astype(np.float32)
        target = VOICES_DIR / f"{line.key}.ogg"
        with av.open(str(target), "w", format="ogg") as out:
            stream = out.add_stream("libopus", rate=RATE, layout="mono")
            stream.bit_rate = 24_000
            for start in range(0, len(samples), 960):
                frame = av.AudioFrame.from_ndarray(
                    samples[None, start : start + 960], format="flt", layout="mono"
                )
                frame.sample_rate = RATE
                frame.pts = start
                out.mux(stream.encode(frame))
            out.mux(stream.encode())
        print(target, round(len(samples) / RATE, 2), "s")


VOICES_DIR = Path(__file__).resolve().parents[1] / "src" / "overt" / "demo" / "voices"

if __name__ == "__main__":
    main()
