"""Masking boxes in place in a decoded yuv420p frame: blur, pixelate or solid."""

from __future__ import annotations

import math

import av
import numpy as np

from .detectors import Box


class Masker:
    """Masks boxes in place in a yuv420p frame. Boxes arrive upright-normalised."""

    def __init__(self, mode: str, width: int, height: int, rotation: int) -> None:
        self.mode = mode
        self.width, self.height = width, height
        self.rotation = rotation

    def rects(self, boxes: list[tuple[Box, str]]) -> list[tuple[int, int, int, int]]:
        out = []
        for box, _label in boxes:
            x1, y1, x2, y2 = to_coded(box, self.rotation)
            # Outward rounding to even pixels keeps luma and chroma masks aligned.
            px1 = max(0, math.floor(x1 * self.width / 2) * 2)
            py1 = max(0, math.floor(y1 * self.height / 2) * 2)
            px2 = min(self.width, math.ceil(x2 * self.width / 2) * 2)
            py2 = min(self.height, math.ceil(y2 * self.height / 2) * 2)
            if px2 > px1 and py2 > py1:
                out.append((px1, py1, px2, py2))
        return out

    def apply(self, frame: av.VideoFrame, boxes: list[tuple[Box, str]]) -> av.VideoFrame:
        rects = self.rects(boxes)
        if not rects:
            return frame
        frame.make_writable()  # the decoder may still reference this buffer
        planes = []
        for index, plane in enumerate(frame.planes):
            rows = plane.height
            # A VideoPlane is a writable buffer; numpy's stubs accept only built-in ones.
            data = np.frombuffer(plane, np.uint8).reshape(rows, plane.line_size)  # type: ignore[call-overload]
            planes.append(data[:, : plane.width] if index else data[:, : frame.width])
        for x1, y1, x2, y2 in rects:
            mask_plane(planes[0], x1, y1, x2, y2, self.mode, 16)
            mask_plane(planes[1], x1 // 2, y1 // 2, x2 // 2, y2 // 2, self.mode, 128)
            mask_plane(planes[2], x1 // 2, y1 // 2, x2 // 2, y2 // 2, self.mode, 128)
        return frame


def to_coded(box: Box, rotation: int) -> Box:
    """Upright-normalised box to stored-frame-normalised (undo the display rotation)."""
    x1, y1, x2, y2 = box
    if rotation == 90:  # upright = stored turned clockwise
        return (y1, 1 - x2, y2, 1 - x1)
    if rotation == 180:
        return (1 - x2, 1 - y2, 1 - x1, 1 - y1)
    if rotation == 270:
        return (1 - y2, x1, 1 - y1, x2)
    return box


def mask_plane(plane: np.ndarray, x1: int, y1: int, x2: int, y2: int, mode: str, fill: int) -> None:
    region = plane[y1:y2, x1:x2]
    if region.size == 0:
        return
    if mode == "solid":
        region[...] = fill
        return
    import cv2

    h, w = region.shape
    if mode == "pixelate":
        # About 8 blocks across the longer side: shape stays, identity goes.
        blocks = max(1, max(w, h) // 8)
        small = cv2.resize(
            region, (max(1, w // blocks), max(1, h // blocks)), interpolation=cv2.INTER_AREA
        )
        region[...] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        return
    # Blur: two passes of a box filter half the region's size, then a flat tone toward
    # the mean, so nothing of the face's structure survives (a light blur can be undone).
    kw, kh = max(3, w // 2) | 1, max(3, h // 2) | 1
    blurred = cv2.blur(region, (kw, kh), borderType=cv2.BORDER_REPLICATE)
    blurred = cv2.blur(blurred, (kw, kh), borderType=cv2.BORDER_REPLICATE)
    region[...] = blurred
