"""The camera's burned-in overlay (timestamp, device id), learned from the footage so that
nothing in it is ever labelled a plate.

A body-worn camera moves, so the scene's pixels change from one sampled frame to the
next; the overlay's sharp lettering does not (its seconds digits tick, the rest stays).
A pixel with a strong edge that stays the same while the picture around it changed is
overlay, if it lies in the top or bottom fifth of the picture, where cameras burn it
in. `StaticOverlay` counts, per pixel of a small grey copy, the sampled frames in
which that held; `OverlayAware` wraps a detector (the plate cascade) and drops boxes
that lie mostly on the learned overlay. A box is only ever judged against frames seen
so far; for the first few sampled frames (until `MIN_MOVING` moving ones), boxes in
the top and bottom bands are held back, since the overlay is not known yet.
"""

from __future__ import annotations

import numpy as np

from .detectors import Box, Detector, Found, Picture

WIDTH = 320
MOVED = 4.0  # mean grey change that says the camera or scene moved
STILL = 6  # a pixel changing less than this is still
EDGE = 60.0  # gradient magnitude of lettering
SHARE = 0.9  # of the moving frames seen, a pixel must be still and edged in this many
MIN_MOVING = 3  # moving frames seen before anything is called overlay
BAND = 0.2  # cameras burn their overlay into the top or bottom fifth of the picture
COVER = 0.15  # a box with this share of its pixels on overlay (dilated) is overlay


class StaticOverlay:
    def __init__(self) -> None:
        self.previous: np.ndarray | None = None
        self.counts: np.ndarray | None = None
        self.moving = 0
        self._mask: np.ndarray | None = None

    def update(self, gray: np.ndarray) -> None:
        import cv2

        gray = gray.astype(np.int16)
        if self.previous is not None and self.previous.shape == gray.shape:
            diff = np.abs(gray - self.previous)
            if float(diff.mean()) >= MOVED:
                gx = cv2.Sobel(gray.astype(np.float32), cv2.CV_32F, 1, 0, ksize=3)
                gy = cv2.Sobel(gray.astype(np.float32), cv2.CV_32F, 0, 1, ksize=3)
                edged = np.hypot(gx, gy) >= EDGE
                if self.counts is None:
                    self.counts = np.zeros(gray.shape, np.int32)
                self.counts += (diff < STILL) & edged
                self.moving += 1
                self._mask = None
        self.previous = gray

    def mask(self) -> np.ndarray | None:
        """Overlay pixels (dilated to cover the gaps between letters), or None if unknown."""
        if self.counts is None or self.moving < MIN_MOVING:
            return None
        if self._mask is None:
            import cv2

            core = (self.counts >= SHARE * self.moving).astype(np.uint8)
            # Only the top and bottom bands: a slow pan over a wall is not an overlay.
            band = round(core.shape[0] * BAND)
            core[band : core.shape[0] - band] = 0
            self._mask = cv2.dilate(core, np.ones((7, 15), np.uint8)) > 0
        return self._mask

    def covers(self, box: Box) -> bool:
        mask = self.mask()
        if mask is None:
            return False
        h, w = mask.shape
        x1, y1 = int(max(0, box[0]) * w), int(max(0, box[1]) * h)
        x2, y2 = int(np.ceil(min(1, box[2]) * w)), int(np.ceil(min(1, box[3]) * h))
        region = mask[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)]
        return bool(region.size) and float(region.mean()) >= COVER


class OverlayAware:
    """A detector whose boxes on the camera's burned-in overlay are dropped."""

    def __init__(self, inner: Detector) -> None:
        self.inner = inner
        self.name, self.label = inner.name, inner.label
        self.version = f"{inner.version}; burned-in overlay learned and ignored"
        self.overlay = StaticOverlay()

    def detect(self, picture: Picture) -> list[Found]:
        height = max(16, round(picture.height * WIDTH / max(1, picture.width)))
        self.overlay.update(picture.gray(WIDTH, height))
        found = self.inner.detect(picture)
        if self.overlay.mask() is None:  # not learned yet: keep only the middle band
            return [f for f in found if f.box[1] >= BAND and f.box[3] <= 1 - BAND]
        return [f for f in found if not self.overlay.covers(f.box)]
