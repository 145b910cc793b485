"""The synthetic source: a moving test pattern with the device's clock burned in (UTC,
HH:MM:SS and tenths, drawn as seven-segment digits) and a 1 kHz tone, encoded to H.264
and AAC in real time. For tests, demos and the fleet simulator; no camera needed."""

from __future__ import annotations

import math
import threading
import time
from array import array
from collections.abc import Iterator

import av

from .encoder import Encoder, pace
from .packets import Packet

# Seven segments per digit: a top, b top-right, c bottom-right, d bottom, e bottom-left,
# f top-left, g middle.
DIGITS = {
    "0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg",
    "5": "acdfg", "6": "acdefg", "7": "abc", "8": "abcdefg", "9": "abcdfg",
}  # fmt: skip
TONE_HZ = 1000
AUDIO_RATE = 48000
AUDIO_SAMPLES = 1024


class SyntheticSource:
    copied = False
    name = "synthetic"

    def __init__(
        self,
        width: int,
        height: int,
        fps: int,
        bitrate_kbps: int,
        keyframe_seconds: float,
        audio: bool = True,
    ) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.video = Encoder.h264(width, height, fps, bitrate_kbps, keyframe_seconds)
        self.audio = Encoder.aac(AUDIO_RATE) if audio else None
        self.video_template = self.video.stream
        self.audio_template = self.audio.stream if self.audio else None
        self._chroma = bytes([128]) * ((width // 2) * (height // 2))
        self._tone = (
            array(
                "f",
                (0.2 * math.sin(2 * math.pi * TONE_HZ * i / AUDIO_RATE) for i in range(AUDIO_RATE)),
            ).tobytes()
            * 2
        )

    def packets(self, stop: threading.Event) -> Iterator[Packet]:
        start = time.time()
        frame_index = 0
        audio_index = 0
        while not stop.is_set():
            due = start + frame_index / self.fps
            # Audio frames due before this video frame go first, so streams interleave.
            while self.audio and start + audio_index * AUDIO_SAMPLES / AUDIO_RATE <= due:
                yield from self._audio_frame(audio_index, start)
                audio_index += 1
            now = pace(due)
            frame = self.frame(frame_index, now)
            frame.pts = frame_index
            yield from self.video.encode(frame, due)
            frame_index += 1

    def _audio_frame(self, index: int, start: float) -> Iterator[Packet]:
        assert self.audio is not None
        frame = av.AudioFrame(format="fltp", layout="mono", samples=AUDIO_SAMPLES)
        offset = (index * AUDIO_SAMPLES) % AUDIO_RATE
        chunk = self._tone[offset * 4 : (offset + AUDIO_SAMPLES) * 4]
        frame.planes[0].update(chunk)
        frame.sample_rate = AUDIO_RATE
        frame.pts = index * AUDIO_SAMPLES
        yield from self.audio.encode(frame, start + index * AUDIO_SAMPLES / AUDIO_RATE)

    def frame(self, index: int, moment: float) -> av.VideoFrame:
        width, height = self.width, self.height
        frame = av.VideoFrame(width, height, "yuv420p")
        line = frame.planes[0].line_size
        # Vertical bars of rising brightness, moving right by 4 pixels a frame.
        shift = (index * 4) % width
        row = bytes(((x - shift) % width) * 200 // width + 16 for x in range(width))
        luma = bytearray((row + bytes(line - width)) * height)
        self._clock(luma, line, moment)
        frame.planes[0].update(bytes(luma))
        for plane in (frame.planes[1], frame.planes[2]):
            plane.update(
                self._chroma if plane.line_size == width // 2 else bytes([128]) * plane.buffer_size
            )
        return frame

    def _clock(self, luma: bytearray, line: int, moment: float) -> None:
        stamp = time.strftime("%H%M%S", time.gmtime(moment)) + str(int(moment * 10) % 10)
        digit_h = max(10, self.height // 12)
        digit_w = digit_h // 2
        thick = max(2, digit_h // 8)
        x0, y0 = max(2, self.width // 40), max(2, self.height // 30)
        # A dark box behind the digits so they read on any pattern.
        box_w = min(self.width - x0, len(stamp) * (digit_w + thick * 2) + thick * 4)
        for y in range(y0, min(self.height, y0 + digit_h + thick * 2)):
            luma[y * line + x0 : y * line + x0 + box_w] = bytes(box_w)
        x = x0 + thick
        for position, char in enumerate(stamp):
            self._digit(luma, line, char, x, y0 + thick, digit_w, digit_h, thick)
            x += digit_w + thick * 2 + (thick * 2 if position in (1, 3, 5) else 0)

    def _digit(
        self, luma: bytearray, line: int, char: str, x: int, y: int, w: int, h: int, t: int
    ) -> None:
        half = h // 2
        rects = {
            "a": (x, y, w, t), "b": (x + w - t, y, t, half), "c": (x + w - t, y + half, t, half),
            "d": (x, y + h - t, w, t), "e": (x, y + half, t, half), "f": (x, y, t, half),
            "g": (x, y + half - t // 2, w, t),
        }  # fmt: skip
        for segment in DIGITS[char]:
            rx, ry, rw, rh = rects[segment]
            rw = max(0, min(rw, self.width - rx))
            for row in range(ry, min(self.height, ry + rh)):
                luma[row * line + rx : row * line + rx + rw] = b"\xeb" * rw

    def close(self) -> None:
        self.video.close()
        if self.audio:
            self.audio.close()
