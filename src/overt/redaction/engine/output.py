"""The encoder's side of a render: the output size, the H.264 stream, and each frame as
yuv420p at that size."""

from __future__ import annotations

from fractions import Fraction
from typing import cast

import av
import numpy as np

from overt.media.derivatives import h264_encoder

from .frames import reformat


def output_size(
    coded_w: int, coded_h: int, rotation: int, max_height: int | None
) -> tuple[int, int]:
    """Stored (unrotated) output size: even sides, display height at most max_height."""
    display_h = coded_w if rotation in (90, 270) else coded_h
    scale = 1.0
    if max_height and display_h > max_height:
        scale = max_height / display_h
    w = max(2, int(coded_w * scale) // 2 * 2) if scale != 1.0 else coded_w
    h = max(2, int(coded_h * scale) // 2 * 2) if scale != 1.0 else coded_h
    # 4:2:0 needs even sides; an odd source gains one edge-copied column or row.
    return w + (w % 2), h + (h % 2)


def add_video(
    out: av.container.OutputContainer,
    vin: av.video.stream.VideoStream,
    width: int,
    height: int,
    rotation: int,
    preset: str,
    crf: int,
) -> av.video.stream.VideoStream:
    rate = vin.average_rate or vin.guessed_rate or Fraction(30)
    name = h264_encoder()
    options = {"preset": preset, "crf": str(crf), "bf": "0"} if name == "libx264" else {}
    vout = cast(av.video.stream.VideoStream, out.add_stream(name, rate=rate, options=options))
    vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
    vout.codec_context.time_base = vin.time_base or Fraction(1, 90_000)
    vout.time_base = vout.codec_context.time_base
    vout.gop_size = max(1, round(float(rate) * 2))
    if name != "libx264":
        vout.bit_rate = 4_000_000
    if rotation:
        vout.set_display_rotation(-rotation)  # PyAV takes counter-clockwise degrees
    return vout


def to_output(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """The frame as yuv420p at the output size, sharing the decoder's buffer when it can."""
    if frame.format.name == "yuv420p" and frame.width == width and frame.height == height:
        return frame
    if frame.width % 2 or frame.height % 2:
        # Odd source: pad one edge-copied column/row instead of resampling the picture.
        rgb: np.ndarray = frame.to_ndarray(format="rgb24")
        rgb = np.pad(rgb, ((0, frame.height % 2), (0, frame.width % 2), (0, 0)), mode="edge")
        padded = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        if padded.width == width and padded.height == height:
            return reformat(padded, width, height, "yuv420p")
        frame = padded
    return reformat(frame, width, height, "yuv420p", interpolation="AREA")
