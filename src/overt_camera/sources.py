"""Where packets come from, all through PyAV:

- `synthetic`: a moving pattern with a burned-in clock and a tone, encoded (synthetic.py);
- `file:PATH`: a recorded file played in real time and looped; packets copied, not re-encoded;
- `rtsp://...`: an IP or helmet camera; packets copied, never re-encoded;
- `v4l2:/dev/videoN`: a USB or CSI camera; raw frames encoded to H.264.

A source yields `Packet`s with the device time at which each begins, and offers the
streams the recorder copies into each segment (`video_template`, `audio_template`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import av

from .config import AgentConfig
from .encoder import Encoder, pace
from .packets import AUDIO, VIDEO, Packet
from .synthetic import SyntheticSource


class SourceError(RuntimeError):
    """The source cannot be opened or read; the message says which and why."""


class Source(Protocol):
    name: str
    copied: bool  # packets copied from the camera (fragments then close by duration)
    video_template: Any
    audio_template: Any

    def packets(self, stop: threading.Event) -> Iterator[Packet]: ...

    def close(self) -> None: ...


def open_source(spec: str, config: AgentConfig) -> Source:
    width, height = config.size
    try:
        if spec == "synthetic":
            return SyntheticSource(
                width, height, config.fps, config.bitrate_kbps, config.keyframe_seconds
            )
        if spec.startswith("file:"):
            path = Path(spec[5:])
            if not path.is_file():
                raise SourceError(f"{spec}: no such file")
            return DemuxSource(str(path), {}, paced=True, loop=True, name=spec)
        if spec.startswith(("rtsp://", "rtsps://")):
            options = {"rtsp_transport": "tcp", "timeout": "10000000"}
            return DemuxSource(spec, options, paced=False, loop=False, name="rtsp")
        if spec.startswith("v4l2:"):
            return V4l2Source(spec[5:], config)
    except av.FFmpegError as exc:
        raise SourceError(f"{spec}: {exc}") from exc
    raise SourceError(
        f"unknown source {spec!r}: use synthetic, file:PATH, rtsp://... or v4l2:/dev/videoN"
    )


class DemuxSource:
    """Packets copied from a container: a file (paced to real time, looped) or RTSP."""

    copied = True

    def __init__(
        self, url: str, options: dict[str, str], paced: bool, loop: bool, name: str
    ) -> None:
        self.name = name
        self._url, self._paced, self._loop = url, paced, loop
        self._container = av.open(url, options=options, timeout=10.0)
        videos = self._container.streams.video
        if not videos:
            raise SourceError(f"{name}: no video stream")
        self.video_template = videos[0]
        audios = self._container.streams.audio
        self.audio_template = audios[0] if audios else None

    def packets(self, stop: threading.Event) -> Iterator[Packet]:
        streams = [s for s in (self.video_template, self.audio_template) if s is not None]
        shifts = {VIDEO: 0, AUDIO: 0}
        last_end = {VIDEO: 0, AUDIO: 0}
        start_wall = time.time()
        origin: float | None = None
        loop_seconds = 0.0
        while not stop.is_set():
            got_any = False
            for raw in self._container.demux(streams):
                if stop.is_set():
                    return
                kind = VIDEO if raw.stream is self.video_template else AUDIO
                wall = time.time()
                packet = Packet.from_av(kind, raw, wall, shifts[kind])
                if packet is None:
                    continue
                got_any = True
                last_end[kind] = max(last_end[kind], packet.dts + max(packet.duration, 1))
                if self._paced:
                    if origin is None:
                        origin = packet.dts_seconds
                    packet.wall = start_wall + packet.dts_seconds - origin
                    pace(packet.wall)
                yield packet
            if not self._loop or not got_any:
                return
            # Looped: the next pass continues the timeline where this one ended.
            self._container.seek(0)
            video_tb = self.video_template.time_base
            loop_seconds = float(last_end[VIDEO] * video_tb) if video_tb else loop_seconds
            for kind, stream in ((VIDEO, self.video_template), (AUDIO, self.audio_template)):
                if stream is not None and stream.time_base:
                    shifts[kind] = int(loop_seconds / stream.time_base)
                    if kind == AUDIO:
                        shifts[kind] = max(shifts[kind], last_end[AUDIO])

    def close(self) -> None:
        self._container.close()


class AlsaMicrophone:
    """A microphone through ALSA, encoded to AAC in its own thread; packets wait in a
    queue for the video source to interleave them."""

    def __init__(self, device: str) -> None:
        try:
            self._container = av.open(device, format="alsa")
        except av.FFmpegError as exc:
            raise SourceError(f"alsa:{device}: {exc}") from exc
        self._encoder = Encoder.aac()
        self.template = self._encoder.stream
        self._resampler = av.AudioResampler(format="fltp", layout="mono", rate=48000)
        self._queue: queue.Queue[Packet] = queue.Queue(maxsize=2000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alsa", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        samples = 0
        try:
            for frame in self._container.decode(audio=0):
                if self._stop.is_set():
                    return
                wall = time.time()
                for chunk in self._resampler.resample(frame):
                    chunk.pts = samples
                    samples += chunk.samples
                    for packet in self._encoder.encode(chunk, wall):
                        self._queue.put(packet, timeout=5)
        except (av.FFmpegError, OSError, queue.Full):
            return  # the video goes on; the gap in sound is in the file for all to see

    def drain(self) -> Iterator[Packet]:
        while True:
            try:
                yield self._queue.get_nowait()
            except queue.Empty:
                return

    def close(self) -> None:
        self._stop.set()
        self._container.close()
        self._encoder.close()


class V4l2Source:
    """Raw frames from a V4L2 camera, encoded to H.264 with a keyframe per fragment; sound
    from an ALSA microphone where `audio_source` names one."""

    copied = False

    def __init__(self, device: str, config: AgentConfig) -> None:
        self.name = f"v4l2:{device}"
        if not Path(device).exists():
            raise SourceError(f"{self.name}: no such device")
        width, height = config.size
        options = {"video_size": config.resolution, "framerate": str(config.fps)}
        self._container = av.open(device, format="v4l2", options=options)
        self._fps = config.fps
        self._width, self._height = width, height
        self._encoder = Encoder.h264(
            width, height, config.fps, config.bitrate_kbps, config.keyframe_seconds
        )
        self.video_template = self._encoder.stream
        self._microphone: AlsaMicrophone | None = None
        if config.audio_source:
            if not config.audio_source.startswith("alsa:"):
                raise SourceError(f"audio_source {config.audio_source!r} is not alsa:DEVICE")
            self._microphone = AlsaMicrophone(config.audio_source[5:])
        self.audio_template = self._microphone.template if self._microphone else None

    def packets(self, stop: threading.Event) -> Iterator[Packet]:
        began: float | None = None
        last = -1
        for frame in self._container.decode(video=0):
            if stop.is_set():
                return
            wall = time.time()
            began = wall if began is None else began
            # Timestamps from the device clock, so a dropped frame leaves a gap, not a shift.
            index = max(last + 1, round((wall - began) * self._fps))
            last = index
            scaled = frame.reformat(width=self._width, height=self._height, format="yuv420p")
            scaled.pts = index
            yield from self._encoder.encode(scaled, wall)
            if self._microphone is not None:
                yield from self._microphone.drain()

    def close(self) -> None:
        self._container.close()
        self._encoder.close()
        if self._microphone is not None:
            self._microphone.close()
