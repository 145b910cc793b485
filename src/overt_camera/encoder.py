"""H.264 and AAC encoding for sources that deliver raw frames (synthetic, v4l2, ALSA).

The encoder is a stream of a `null` muxer: muxing its first packet there fills the
stream's codec parameters (SPS/PPS in the extradata), so the recorder can copy it into
each segment with `add_stream_from_template` and mux the same packets unchanged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from fractions import Fraction

import av
from av.codec.context import Flags

from .packets import AUDIO, VIDEO, Packet


class Encoder:
    def __init__(
        self,
        stream: av.video.stream.VideoStream | av.audio.stream.AudioStream,
        container: av.container.OutputContainer,
        kind: int,
    ) -> None:
        self.stream = stream
        self._container = container
        self._kind = kind
        self._started = False

    @classmethod
    def h264(
        cls, width: int, height: int, fps: int, bitrate_kbps: int, keyframe_seconds: float
    ) -> Encoder:
        container = av.open(os.devnull, "w", format="null")
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate_kbps * 1000
        keyint = max(1, int(fps * keyframe_seconds))
        stream.codec_context.gop_size = keyint
        stream.codec_context.flags |= Flags.global_header
        # ultrafast and zerolatency: little CPU, no B-frames, no lookahead (packets out
        # as frames go in); a keyframe every `keyint` frames, so a fragment each time.
        stream.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0",
        }
        return cls(stream, container, VIDEO)

    @classmethod
    def aac(cls, rate: int = 48000, layout: str = "mono") -> Encoder:
        container = av.open(os.devnull, "w", format="null")
        stream = container.add_stream("aac", rate=rate)
        stream.layout = layout
        stream.codec_context.flags |= Flags.global_header
        stream.bit_rate = 64000
        return cls(stream, container, AUDIO)

    @property
    def time_base(self) -> Fraction:
        return Fraction(self.stream.codec_context.time_base or Fraction(1, 1))

    def encode(self, frame: av.VideoFrame | av.AudioFrame | None, wall: float) -> Iterator[Packet]:
        for packet in self.stream.encode(frame):  # type: ignore[arg-type]  # its own kind
            if not self._started:
                self._container.mux(packet)  # fills the template's codec parameters
                self._started = True
            held = Packet.from_av(self._kind, packet, wall)
            if held is not None:
                yield held

    def close(self) -> None:
        try:
            self._container.close()
        except av.FFmpegError:
            pass


def pace(due: float) -> float:
    """Sleep until `due` (Unix time); return now."""
    delay = due - time.time()
    if delay > 0:
        time.sleep(delay)
    return time.time()
