"""The camera's own motion, for head-mounted shake (issue 15).

Detectors run on every `stride`-th frame; in between, a track's box is interpolated.
A body- or head-mounted camera jolts the whole picture by tens of pixels from one
frame to the next, so between samples every face is somewhere else than the
interpolation says, and blurred along the jolt. `CameraMotion` measures the global
shift of each frame against the one before (phase correlation on a small grey copy:
about a millisecond a frame) and `residual` says, for a box interpolated from samples
at given times, how far the camera has moved away from where that same interpolation
puts it: the box is shifted by that, and grown by the frame's own motion (its blur).
A steady or smoothly panning camera gives residuals near zero, so nothing changes.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import numpy as np

from .detectors import Box, Picture
from .tracking import _MAX_EXTRAPOLATION_S, VELOCITY_WINDOW_S

WIDTH = 320  # the grey copy's width; shifts are measured to a fraction of its pixels
MIN_RESPONSE = 0.08  # below this peak, phase correlation found no one shift: assume none
MAX_SHIFT = 0.15  # a "shift" over this fraction of the picture in one frame is a cut


class CameraMotion:
    """The picture's cumulative offset at each frame, normalised (fractions of width and
    height): where a point fixed in the world appears, relative to the first frame."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.finished = False
        self._previous: np.ndarray | None = None
        self._window: np.ndarray | None = None

    def offer(self, picture: Picture) -> None:
        """The next frame, in time order (upright, any size)."""
        import cv2

        height = max(16, round(WIDTH * picture.height / max(1, picture.width)))
        gray = picture.gray(WIDTH, height).astype(np.float32)
        dx = dy = 0.0
        if self._previous is not None and self._previous.shape == gray.shape:
            if self._window is None:
                self._window = cv2.createHanningWindow((WIDTH, height), cv2.CV_32F)
            (sx, sy), response = cv2.phaseCorrelate(self._previous, gray, self._window)
            nx, ny = sx / WIDTH, sy / height
            if response >= MIN_RESPONSE and max(abs(nx), abs(ny)) <= MAX_SHIFT:
                dx, dy = nx, ny
        self._previous = gray
        x, y = (self.xs[-1], self.ys[-1]) if self.xs else (0.0, 0.0)
        self.times.append(picture.time)
        self.xs.append(x + dx)
        self.ys.append(y + dy)

    def finish(self) -> None:
        self.finished = True

    def known(self, t: float) -> bool:
        return self.finished or (bool(self.times) and self.times[-1] >= t - 1e-9)

    def offset(self, t: float) -> tuple[float, float] | None:
        """The offset at t (linear between frames), None for a time not yet seen."""
        if not self.times or (t > self.times[-1] + 1e-9 and not self.finished):
            return None
        i = bisect.bisect_right(self.times, t)
        if i == 0:
            return self.xs[0], self.ys[0]
        if i == len(self.times):
            return self.xs[-1], self.ys[-1]
        a, b = self.times[i - 1], self.times[i]
        w = (t - a) / (b - a) if b > a else 0.0
        return (
            self.xs[i - 1] + (self.xs[i] - self.xs[i - 1]) * w,
            self.ys[i - 1] + (self.ys[i] - self.ys[i - 1]) * w,
        )

    def blur(self, t: float) -> tuple[float, float]:
        """How far the picture moved into the frame at t (its motion blur's extent)."""
        i = bisect.bisect_left(self.times, t - 1e-9)
        if i <= 0 or i >= len(self.times):
            return 0.0, 0.0
        return abs(self.xs[i] - self.xs[i - 1]), abs(self.ys[i] - self.ys[i - 1])

    def reference(self, times: Sequence[float], t: float) -> tuple[float, float] | None:
        """The offset a track's interpolation from samples at `times` implies at t: the
        camera's share of the box's motion (see tracking._sample_box/_extrapolate)."""
        i = bisect.bisect_right(times, t)
        if 0 < i < len(times):
            a, b = self.offset(times[i - 1]), self.offset(times[i])
            if a is None or b is None:
                return None
            span = times[i] - times[i - 1]
            w = (t - times[i - 1]) / span if span > 0 else 0.0
            return a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w
        backwards = i == 0
        ordered = list(times) if backwards else list(times)[::-1]
        edge = self.offset(ordered[0])
        if edge is None:
            return None
        other_t = ordered[1] if len(ordered) > 1 else None
        for s in ordered[2:]:
            if abs(s - ordered[0]) > VELOCITY_WINDOW_S + 1e-9:
                break
            other_t = s
        if other_t is None or other_t == ordered[0]:
            return edge
        other = self.offset(other_t)
        if other is None:
            return edge
        dt = max(-_MAX_EXTRAPOLATION_S, min(_MAX_EXTRAPOLATION_S, t - ordered[0]))
        span = ordered[0] - other_t
        return edge[0] + (edge[0] - other[0]) / span * dt, edge[1] + (
            edge[1] - other[1]
        ) / span * dt

    def steady(self, box: Box, times: Sequence[float], t: float) -> Box:
        """`box`, interpolated from samples at `times`, moved with the camera's jolts
        since then and grown by the frame's motion blur."""
        now, ref = self.offset(t), self.reference(times, t)
        if now is None or ref is None:
            return box
        dx, dy = now[0] - ref[0], now[1] - ref[1]
        bx, by = self.blur(t)
        # Half the shift again as padding: the estimate is of the whole picture, a face
        # may sit at another depth.
        px, py = bx + abs(dx) * 0.5, by + abs(dy) * 0.5
        if math.hypot(dx, dy) < 1e-4 and px < 1e-4 and py < 1e-4:
            return box
        x1, y1, x2, y2 = box
        return (x1 + dx - px, y1 + dy - py, x2 + dx + px, y2 + dy + py)
