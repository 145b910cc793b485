"""Watermarks burned into the pictures an outside recipient receives.

The text (recipient, share, time) is drawn into the luma of every decoded frame, which is
then encoded again: it is part of the picture, not a layer a player could hide. It is
drawn twice, at the top left and the bottom right, and the pair moves every few seconds,
so cropping one corner never removes it.

`watermarked_mp4()` yields a fragmented MP4 while it is made (the first fragment after
one GOP), so playback starts before the encode ends. `watermark_png()` does the same to a
still. Pure: PyAV, Pillow and numpy only.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from fractions import Fraction
from functools import lru_cache
from typing import Any, cast

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FRAGMENT_FLAGS = "frag_keyframe+empty_moov+default_base_moof"
GOP_SECONDS = 0.5  # a fragment at every keyframe: the first one leaves after half a second
MOVE_SECONDS = 4.0  # the marks change place this often
PRESET = "ultrafast"  # measured in bench/sharing.py: see docs/benchmarks.md


class _Sink(io.RawIOBase):
    """A forward-only file whose written bytes are taken as soon as the muxer writes them."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.offset += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.offset

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def text_mask(text: str, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(ink, box) alpha masks, 0..1, for `text` sized to a frame `width` pixels wide: as
    large as a 48th of the width allows, smaller when the text would not fit in 90% of it."""
    size = max(8, width // 48)
    while True:
        font = _font(size)
        left, top, right, bottom = font.getbbox(text)
        pad = max(2, size // 3)
        w, h = int(right - left + 2 * pad), int(bottom - top + 2 * pad)
        if w <= width * 0.9 or size <= 6:
            break
        size -= 1
    ink = Image.new("L", (w, h), 0)
    ImageDraw.Draw(ink).text((pad - left, pad - top), text, font=font, fill=255)
    ink_a = np.asarray(ink, dtype=np.float32) / 255.0
    box_a = np.full((h, w), 0.45, dtype=np.float32)
    return ink_a, box_a


def _places(width: int, height: int, mw: int, mh: int, t: float) -> list[tuple[int, int]]:
    step = int(t // MOVE_SECONDS) % 4
    margin_x, margin_y = width // 40, height // 30
    dx = (step * width // 12) % max(1, width - mw - 2 * margin_x)
    dy = (step * height // 10) % max(1, height - mh - 2 * margin_y)
    first = (margin_x + dx, margin_y + dy)
    second = (max(0, width - mw - margin_x - dx), max(0, height - mh - margin_y - dy))
    return [first, second]


def burn_luma(luma: np.ndarray, ink: np.ndarray, box: np.ndarray, t: float) -> None:
    """Draw the marks into a frame's luma plane (uint8, modified in place)."""
    height, width = luma.shape
    mh, mw = ink.shape
    if mw > width or mh > height:
        ink, box = (
            ink[: min(mh, height), : min(mw, width)],
            box[: min(mh, height), : min(mw, width)],
        )
        mh, mw = ink.shape
    for x, y in _places(width, height, mw, mh, t):
        region = luma[y : y + mh, x : x + mw].astype(np.float32)
        rh, rw = region.shape  # the frame's edge may cut the mark
        ink_here, box_here = ink[:rh, :rw], box[:rh, :rw]
        region *= 1.0 - box_here  # a darkened band under the text, readable on bright scenes
        blended = region * (1.0 - ink_here) + 235.0 * ink_here
        luma[y : y + rh, x : x + rw] = blended.astype(np.uint8)


def watermarked_mp4(source: str, text: str, *, preset: str = PRESET) -> Iterator[bytes]:
    """Yield `source` (H.264 video, AAC audio) as a fragmented MP4 with `text` burned in."""
    sink = _Sink()
    with av.open(source) as inp:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        width, height = vin.codec_context.width, vin.codec_context.height
        ink, box = text_mask(text, width)
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        out = av.open(sink, "w", format="mp4", options={"movflags": FRAGMENT_FLAGS})
        try:
            options = {"preset": preset, "crf": "23", "bf": "0", "tune": "zerolatency"}
            vout = out.add_stream("libx264", rate=rate, options=options)
            vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
            vout.codec_context.time_base = vin.time_base or Fraction(1, 90_000)
            vout.time_base = vout.codec_context.time_base
            vout.gop_size = max(1, round(float(rate) * GOP_SECONDS))
            aout = out.add_stream_from_template(ain) if ain is not None else None
            time_base = float(vin.time_base or Fraction(1, 90_000))
            last = -1
            streams = [vin] if ain is None else [vin, ain]
            for packet in inp.demux(*streams):
                if packet.stream is ain and aout is not None:
                    if packet.dts is None:
                        continue
                    packet.stream = aout
                    out.mux(packet)
                    continue
                for frame in cast(list[av.VideoFrame], packet.decode()):
                    picture = frame.reformat(format="yuv420p").to_ndarray()
                    pts = frame.pts if frame.pts is not None else last + 1
                    pts = max(pts, last + 1)
                    last = pts
                    burn_luma(picture[:height], ink, box, pts * time_base)
                    made = av.VideoFrame.from_ndarray(picture, format="yuv420p")
                    made.pts, made.time_base = pts, vin.time_base
                    out.mux(vout.encode(made))
                    if data := sink.take():
                        yield data
            out.mux(vout.encode(None))
        finally:
            out.close()
    if data := sink.take():
        yield data


def watermark_png(data: bytes, text: str) -> bytes:
    """A still with the same marks burned into its pixels, as PNG."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    ink, box = text_mask(text, image.width)
    pixels = np.asarray(image, dtype=np.uint8).copy()
    for channel in range(3):
        plane = np.ascontiguousarray(pixels[:, :, channel])
        burn_luma(plane, ink, box, 0.0)
        pixels[:, :, channel] = plane
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()
