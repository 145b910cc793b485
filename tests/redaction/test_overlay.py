"""The burned-in overlay is learned from moving footage and never labelled a plate."""

from __future__ import annotations

import cv2
import numpy as np

from overt.redaction.engine.detectors import Found, Picture
from overt.redaction.engine.overlay import OverlayAware, StaticOverlay
from overt.redaction.evalset import backdrop

OVERLAY_BOX = (0.02, 0.88, 0.6, 0.97)  # where the timestamp is drawn
MIDDLE_BOX = (0.4, 0.45, 0.55, 0.52)


class BoxesEverywhere:
    """A plate detector that fires on the overlay and in the middle of every frame, as
    OpenCV's cascade does on a camera's timestamp."""

    name, label, version = "plates-everywhere", "plate", "test"

    def detect(self, picture: Picture) -> list[Found]:
        return [Found(OVERLAY_BOX, 1.0, "plate"), Found(MIDDLE_BOX, 1.0, "plate")]


def frames(count: int, pan: int = 24):
    back = backdrop("brick", 640, 360)
    for k in range(count):
        picture = back[40 : 40 + 360, k * pan : k * pan + 640].copy()
        stamp = f"2026-11-24 14:31:{k:02d}  CAM BWV-0417"
        for colour, thick in (((0, 0, 0), 4), ((255, 255, 255), 1)):
            cv2.putText(picture, stamp, (14, 338), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, thick)
        yield Picture(np.ascontiguousarray(picture), width=640, height=360, index=k)


def test_the_overlay_is_learned_and_its_boxes_dropped_while_others_stay() -> None:
    detector = OverlayAware(BoxesEverywhere())
    kept = [[f.box for f in detector.detect(p)] for p in frames(8)]
    assert all(MIDDLE_BOX in boxes for boxes in kept)
    assert all(OVERLAY_BOX not in boxes for boxes in kept)  # held back, then learned
    mask = detector.overlay.mask()
    assert mask is not None and mask.shape == (180, 320) and mask[165:172, 10:150].mean() > 0.5
    assert mask[50:125].sum() == 0  # the middle is never overlay
    assert "overlay" in detector.version and detector.label == "plate"


def test_a_still_camera_teaches_nothing() -> None:
    overlay = StaticOverlay()
    for picture in frames(6, pan=0):
        overlay.update(picture.gray(320, 180))
    assert overlay.mask() is None and not overlay.covers(OVERLAY_BOX)
