"""Where a render's boxes come from. A planned source holds reviewed tracks; a detecting
source (overt.redaction.engine.detection) finds them as frames stream by."""

from __future__ import annotations

import av

from .camera import CameraMotion
from .detectors import Box
from .tracking import Timeline

# A planned render holds each frame until the camera's motion is known this far ahead,
# so a box interpolated towards a later sample is moved with the jolts in between.
LOOKAHEAD_S = 0.5


class BoxSource:
    """Where a render's boxes come from: fixed tracks, or detection as frames stream by."""

    frame_times: list[float]
    camera: CameraMotion | None = None

    def attach(self, camera: CameraMotion) -> None:
        """The render measures the camera's motion; boxes follow its jolts."""
        self.camera = camera

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

    def attach(self, camera: CameraMotion) -> None:
        self.camera = camera
        self.timeline.camera = camera

    def ready(self, t: float) -> bool:
        return self.camera is None or self.camera.known(t + LOOKAHEAD_S)

    def boxes(self, t: float) -> list[tuple[Box, str]]:
        return self.timeline.at(t)
