"""Real faces walking through the demo footage, so a new user sees redaction work.

The photographs are the ones the redaction evaluation set uses, shipped inside
scikit-image (installed with overt, as deface's dependency): the astronaut portrait
(NASA, public domain), the cameraman, and Labeled Faces in the Wild crops. Each demo
clip gets a few passers-by: one near the camera, crossing the picture, one further off,
and one walking towards the camera (growing). Seeded, so a clip is the same every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Walk:
    sprite: int
    start: tuple[float, float, float]  # face centre x, y (fractions) and height (px at 720)
    end: tuple[float, float, float]
    t_in: float
    t_out: float


class Passersby:
    """`draw(picture, t)` composites the walkers onto an RGB frame in place."""

    def __init__(self, seed: int, width: int, height: int, duration_s: float) -> None:
        from overt.redaction.evalset_scenes import sprites

        rng = np.random.default_rng(seed)
        self.sprites = sprites()
        self.width, self.height = width, height
        scale = height / 720
        d = max(duration_s, 1.0)
        left_to_right = bool(rng.random() < 0.5)
        x0, x1 = (-0.1, 1.1) if left_to_right else (1.1, -0.1)
        self.walks = [
            # Near the camera, crossing the whole picture.
            Walk(int(rng.integers(0, 3)), (x0, 0.45, 150 * scale), (x1, 0.42, 160 * scale), 0, d),
            # Further off, slowly, the other way.
            Walk(
                3 + int(rng.integers(0, 100)),
                (0.8 if left_to_right else 0.2, 0.35, 45 * scale),
                (0.55 if left_to_right else 0.45, 0.36, 50 * scale),
                0,
                d,
            ),
            # Walking up to the camera in the second half.
            Walk(
                int(rng.integers(0, 3)),
                (0.35, 0.4, 40 * scale),
                (0.3, 0.5, 220 * scale),
                d * 0.5,
                d,
            ),
        ]

    def draw(self, picture: np.ndarray, t: float) -> None:
        import cv2

        from overt.redaction.evalset_scenes import Actor, place_face

        for walk in self.walks:
            if not walk.t_in <= t < walk.t_out:
                continue
            span = max(1e-6, walk.t_out - walk.t_in)

            def path(s: float, w: Walk = walk, span: float = span) -> tuple[float, float, float]:
                k = min(1.0, max(0.0, (s - w.t_in) / span))
                x = (w.start[0] + (w.end[0] - w.start[0]) * k) * self.width
                y = (w.start[1] + (w.end[1] - w.start[1]) * k) * self.height
                h = math.exp(math.log(w.start[2]) + (math.log(w.end[2]) - math.log(w.start[2])) * k)
                # A walker's head bobs a little with each step.
                return x, y + 0.02 * h * math.sin(s * 2 * math.pi * 1.8), h

            place_face(picture, self.sprites[walk.sprite], Actor(walk.sprite, path), t, cv2)
