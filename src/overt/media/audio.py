"""The one AAC encoder: used by the proxy, the clip cutter and the redaction renderer.

Decoded audio is resampled to planar float at 44.1 or 48 kHz and encoded on a
continuous sample clock: sample n of the output plays at n / rate seconds after
`origin` (seconds on the source's timeline), the same clock as the video frames, so
gaps or jitter in the source's audio timestamps never drift the sound off the picture.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer

# (output chunk, its first sample's number, sample rate) -> the chunk to encode.
Shape = Callable[[av.AudioFrame, int, int], av.AudioFrame]


def aac_rate(ain: AudioStream) -> int:
    """44.1 kHz sources stay at 44.1 kHz; everything else is encoded at 48 kHz."""
    return 44_100 if (ain.codec_context.sample_rate or 48_000) == 44_100 else 48_000


class AacEncoder:
    """Resample to AAC-friendly fltp and encode onto `out` with a continuous sample clock.

    `bit_rates` is (mono, stereo). `shape` may rewrite each chunk before it is encoded
    (redaction mutes or bleeps ranges). `keep_early`: a first sound that starts before
    `origin` keeps its negative time (a clip cut mid-packet; the MP4 edit list hides
    it) instead of being moved to zero.
    """

    def __init__(
        self,
        out: OutputContainer,
        ain: AudioStream,
        origin: float,
        *,
        bit_rates: tuple[int, int] = (96_000, 128_000),
        shape: Shape | None = None,
        keep_early: bool = False,
    ) -> None:
        self.rate = aac_rate(ain)
        layout = "mono" if ain.codec_context.channels == 1 else "stereo"
        self.stream = out.add_stream("aac", rate=self.rate, layout=layout)
        self.stream.bit_rate = bit_rates[0] if layout == "mono" else bit_rates[1]
        self.resampler = av.AudioResampler(format="fltp", layout=layout, rate=self.rate)
        self.origin = origin
        self.out = out
        self.shape = shape
        self.keep_early = keep_early
        self.next_pts: int | None = None

    def push(self, frame: av.AudioFrame | None) -> None:
        """Encode one decoded frame (None flushes the resampler)."""
        if frame is not None and self.next_pts is None:
            # Where the first sound sits relative to the origin (the first picture).
            start = frame.time if frame.time is not None else self.origin
            first = round((start - self.origin) * self.rate)
            self.next_pts = first if self.keep_early else max(0, first)
        for chunk in self.resampler.resample(frame):
            start = self.next_pts or 0
            if self.shape is not None:
                chunk = self.shape(chunk, start, self.rate)
            chunk.pts = start
            chunk.time_base = Fraction(1, self.rate)
            self.next_pts = start + chunk.samples
            self.out.mux(self.stream.encode(chunk))

    def finish(self) -> None:
        if self.next_pts is not None:
            self.push(None)
        self.out.mux(self.stream.encode(None))
