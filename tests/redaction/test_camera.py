"""The camera's own motion (head-mounted shake): measured, and boxes moved with it."""

from __future__ import annotations

import numpy as np
import pytest

from overt.redaction.engine.camera import CameraMotion
from overt.redaction.engine.detectors import Picture
from overt.redaction.engine.tracking import Sample, Timeline, Track

FPS = 25.0


def scene(shifts: list[int]) -> list[Picture]:
    """Frames of one textured scene, the camera jolting sideways by `shifts` pixels."""
    import cv2

    rng = np.random.default_rng(3)
    noise = (rng.random((360, 760, 3)) * 255).astype(np.uint8)
    base = cv2.GaussianBlur(noise, (0, 0), 2)
    return [
        Picture(
            np.ascontiguousarray(base[:, 60 - x : 60 - x + 640]),
            width=640,
            height=360,
            time=i / FPS,
        )
        for i, x in enumerate(shifts)
    ]


def test_phase_correlation_measures_each_jolt() -> None:
    camera = CameraMotion()
    for picture in scene([0, 16, 32, 8, 8]):
        camera.offer(picture)
    assert [round(x * 640) for x in camera.xs] == [0, 16, 32, 8, 8]
    assert camera.ys == pytest.approx([0.0] * 5, abs=1 / 360)
    assert camera.offset(10 / FPS) is None  # not seen yet
    camera.finish()
    assert camera.offset(10 / FPS) == pytest.approx((8 / 640, 0.0), abs=1 / 640)


def test_a_box_between_samples_follows_the_jolt_and_grows_by_the_blur() -> None:
    camera = CameraMotion()
    for picture in scene([0, 16, 32, 8, 8]):
        camera.offer(picture)
    box = (0.5, 0.5, 0.55, 0.6)
    samples = [Sample(0.0, box), Sample(4 / FPS, (0.5 + 8 / 640, 0.5, 0.55 + 8 / 640, 0.6))]
    track = Track(1, "face", "c", samples)
    plain, steadied = track.cover_at(2 / FPS), track.cover_at(2 / FPS, camera)
    assert plain is not None and steadied is not None
    # Interpolation puts it 4 px right of the first sample; the camera put it 32 px right.
    centre = (steadied[0] + steadied[2]) / 2 - (plain[0] + plain[2]) / 2
    assert centre * 640 == pytest.approx(28, abs=1.5)
    grown = (steadied[2] - steadied[0]) - (plain[2] - plain[0])
    assert grown * 640 == pytest.approx(2 * (16 + 14), abs=3)  # blur 16 px + half of 28
    # On the samples themselves nothing moves: the detector saw the face there.
    assert track.cover_at(0.0, camera) == pytest.approx(track.cover_at(0.0), abs=2 / 640)


def test_a_steady_camera_changes_nothing() -> None:
    camera = CameraMotion()
    for picture in scene([0, 0, 0, 0, 0]):
        camera.offer(picture)
    track = Track(
        1, "face", "c", [Sample(0.0, (0.1, 0.1, 0.2, 0.2)), Sample(0.16, (0.2, 0.1, 0.3, 0.2))]
    )
    timeline = Timeline([track], 0.3)
    plain = timeline.at(0.08)
    timeline = Timeline([track], 0.3)
    timeline.camera = camera
    assert timeline.at(0.08) == plain
