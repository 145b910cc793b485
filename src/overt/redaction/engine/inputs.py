"""The input side of both passes: is the file playable, and when does each decoded frame
play (seconds from the recording's start)."""

from __future__ import annotations

import os
from collections.abc import Callable

import av

from overt.media.probe import VideoInfo, probe

Progress = Callable[[float], None]


class RedactionError(Exception):
    """The file cannot be redacted (unplayable, no video, ...); the message says why."""


def require_playable(src: str | os.PathLike[str]) -> VideoInfo:
    path = os.fspath(src)
    if not os.path.exists(path):
        raise RedactionError(f"{path}: no such file")
    info = probe(path)
    if not info.playable:
        raise RedactionError(f"{path}: cannot redact an unplayable file: {info.problem}")
    return info


def frame_time(frame: av.VideoFrame, t0: float, earlier: list[float]) -> float:
    if frame.time is not None:
        t = float(frame.time) - t0
    elif earlier:
        t = earlier[-1] + 1 / 30
    else:
        t = 0.0
    return round(t, 6)
