"""Where a render's boxes come from. A planned source holds reviewed tracks; a detecting
source (overt.redaction.engine.detection) finds them as frames stream by."""

from __future__ import annotations

import av

from .detectors import Box
from .tracking import Timeline


class BoxSource:
    """Where a render's boxes come from: fixed tracks, or detection as frames stream by."""

    frame_times: list[float]

    def offer(self, index: int, t: float, frame: av.VideoFrame) -> None:
        """A decoded frame (before any masking); a detecting source may look at it."""

    def ready(self, t: float) -> bool:
        return True

    def boxes(self, t: float) -> list[tuple[Box, str]]:
        raise NotImplementedError

    def finish(self) -> None:
        """No more frames."""


class Planned(BoxSource):
    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.frame_times = []

    def boxes(self, t: float) -> list[tuple[Box, str]]:
        return self.timeline.at(t)
