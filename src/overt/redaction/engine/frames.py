"""Converting decoded frames without sharing a converter between threads.

`av.VideoFrame.reformat` keeps one converter (an FFmpeg SwsContext) on the frame
itself. A redaction pass hands the same decoded frame to the detector's thread (to an
RGB picture) while the main thread turns it into the output picture (scaled, or to
yuv420p from another pixel format): both then set up and run one SwsContext at once,
which crashed (SIGSEGV) or hung for good in FFmpeg 8's slice threads on a 4K source
scaled down with `--max-height`. Here each thread keeps its own converter per target,
so no converter is ever used by two threads.
"""

from __future__ import annotations

import threading
from typing import Any

import av
from av.video.reformatter import VideoReformatter

_local = threading.local()


def reformat(
    frame: av.VideoFrame, width: int, height: int, fmt: str, **options: Any
) -> av.VideoFrame:
    """`frame` as `fmt` at `width` x `height`, through this thread's own converter."""
    converters: dict[tuple[str, int, int], VideoReformatter] | None = getattr(
        _local, "converters", None
    )
    if converters is None:
        converters = _local.converters = {}
    key = (fmt, width, height)
    converter = converters.get(key)
    if converter is None:
        converter = converters[key] = VideoReformatter()
    out: av.VideoFrame = converter.reformat(
        frame, width=width, height=height, format=fmt, **options
    )
    return out
