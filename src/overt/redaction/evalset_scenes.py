"""The hard evaluation set: street-like scenes with exact ground truth (extends `evalset`).

Real face photographs that ship inside scikit-image (a development dependency), each
with a hand-measured face box (forehead to chin, ear to ear or ear to nose):

- the astronaut portrait (Eileen Collins, NASA: public domain), frontal, and mirrored;
- the cameraman (`data.camera`, scikit-image lists it as free of known restrictions):
  a real three-quarter profile, looking along his camera;
- 100 Labeled Faces in the Wild crops (`data.lfw_subset`, 25 x 25 px grey, tinted):
  many different people; being small, they stand for the distant faces.

Composited moving onto scikit-image photographs, with the whole picture then shaken,
blurred, darkened or noised as a camera would. One scene per hard case: sizes 20-250 px,
entering from every edge, tilted / profile / looking down, walking away and
approaching, a crowd of twelve, head-mounted shake with motion blur and quick pans,
night (under-exposed, noisy, a torch spot), moving occluders, and `noface`: texture,
lettering and a burned-in timestamp overlay, for false positives.

Ground truth per frame: each visible face's box (clipped to the picture), in upright
pixels. A face less than a quarter inside the picture, or under 12 px, is not listed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

from .evalset import EvalClip, FaceBox, _skimage_data, backdrop, face_sprites
from .recognisability import band_energy

SCENES = (
    "sizes",
    "edges",
    "pose",
    "walk",
    "crowd",
    "shake",
    "night",
    "occluders",
    "noface",
)
_CAMERAMAN = (145, 55, 275, 215)  # crop: hair, head, collar
_CAMERAMAN_FACE = (180, 108, 258, 200)


@dataclass(slots=True)
class Sprite:
    image: np.ndarray  # RGB
    face: tuple[float, float, float, float]  # fractions of the sprite


def sprites() -> list[Sprite]:
    """Astronaut, mirrored astronaut, cameraman, then the LFW crops."""
    data = _skimage_data()
    out = [Sprite(s.image, s.face) for s in face_sprites()]
    cam = data.camera()
    x1, y1, x2, y2 = _CAMERAMAN
    crop = np.repeat(cam[y1:y2, x1:x2, None], 3, axis=2)
    fx1, fy1, fx2, fy2 = _CAMERAMAN_FACE
    w, h = x2 - x1, y2 - y1
    face = ((fx1 - x1) / w, (fy1 - y1) / h, (fx2 - x1) / w, (fy2 - y1) / h)
    out.insert(2, Sprite(np.ascontiguousarray(crop), face))
    return out


@dataclass(slots=True)
class Actor:
    """One face in a scene: where it is (centre of its face box) and how it looks at t."""

    sprite: int
    path: Callable[[float], tuple[float, float, float]]  # t -> face centre x, y, height
    tilt: float = 0.0  # degrees, clockwise
    squash_x: float = 1.0  # < 1: turned away (profile-like foreshortening)
    squash_y: float = 1.0  # < 1: looking down / up
    t_in: float = 0.0
    t_out: float = 1e9


Path = Callable[[float], tuple[float, float, float]]


def _linear(a: tuple[float, float, float], b: tuple[float, float, float], d: float) -> Path:
    def at(t: float) -> tuple[float, float, float]:
        w = min(1.0, max(0.0, t / d))
        h = math.exp(math.log(a[2]) + (math.log(b[2]) - math.log(a[2])) * w)
        return (a[0] + (b[0] - a[0]) * w, a[1] + (b[1] - a[1]) * w, h)

    return at


def scene_actors(
    name: str, width: int, height: int, d: float, rng: np.random.Generator
) -> list[Actor]:
    """The faces of one scene over `d` seconds."""
    n_lfw = 100

    def lfw() -> int:  # one of the LFW sprites, at random
        return 3 + int(rng.integers(0, n_lfw))

    actors: list[Actor] = []
    if name in ("sizes", "shake", "night"):
        heights = (20.0, 28.0, 40.0, 60.0, 90.0, 140.0, 200.0, 250.0)
        for k, h in enumerate(heights):
            x = width * (0.06 + 0.88 * k / (len(heights) - 1))
            y = height * (0.3 if k % 2 else 0.62)
            dx = float(rng.uniform(-80, 80))
            sprite = k % 3 if h >= 90 else lfw()
            actors.append(Actor(sprite, _linear((x, y, h), (x + dx, y, h), d)))
    elif name == "edges":
        for k, (side, h) in enumerate(
            zip(
                ("left", "right", "top", "bottom", "left", "right"),
                (120.0, 90.0, 150.0, 110.0, 40.0, 60.0),
                strict=True,
            )
        ):
            t0 = d * 0.1 * k
            travel = h * 2.5
            if side in ("left", "right"):
                y = height * (0.3 + 0.1 * k)
                x0 = -h * 0.6 if side == "left" else width + h * 0.6
                x1 = x0 + travel if side == "left" else x0 - travel
                path = _shifted(_linear((x0, y, h), (x1, y, h), d * 0.6), t0)
            else:
                x = width * (0.3 + 0.12 * k)
                y0 = -h * 0.6 if side == "top" else height + h * 0.6
                y1 = y0 + travel if side == "top" else y0 - travel
                path = _shifted(_linear((x, y0, h), (x, y1, h), d * 0.6), t0)
            actors.append(Actor(k % 3 if h > 80 else lfw(), path, t_in=t0))
    elif name == "pose":
        poses = ((25, 1, 1), (-30, 1, 1), (0, 0.55, 1), (0, 1, 0.6), (15, 0.7, 0.75), (0, 1, 1))
        for k, (tilt, sx, sy) in enumerate(poses):
            x = width * (0.12 + 0.15 * k)
            y = height * (0.35 if k % 2 else 0.6)
            sprite = 2 if k == 5 else k % 2 if k < 3 else lfw()
            h = 130.0 if sprite < 3 else 70.0
            actors.append(Actor(sprite, _linear((x, y, h), (x + 60, y - 20, h), d), tilt, sx, sy))
    elif name == "walk":
        actors.append(
            Actor(
                0, _linear((width * 0.3, height * 0.55, 250), (width * 0.45, height * 0.4, 22), d)
            )
        )
        actors.append(
            Actor(
                1, _linear((width * 0.75, height * 0.4, 24), (width * 0.65, height * 0.55, 230), d)
            )
        )
        actors.append(
            Actor(
                lfw(), _linear((width * 0.1, height * 0.3, 80), (width * 0.2, height * 0.3, 25), d)
            )
        )
    elif name == "crowd":
        for k in range(12):
            x = width * (0.08 + 0.84 * (k % 6) / 5)
            y = height * (0.3 if k < 6 else 0.65)
            h = float(rng.uniform(28, 110))
            vx = float(rng.uniform(-120, 120))
            sprite = k % 3 if k in (0, 7, 9) else lfw()
            actors.append(Actor(sprite, _linear((x, y, h), (x + vx * d, y, h * 1.1), d)))
    elif name == "occluders":
        for k in range(4):
            x = width * (0.2 + 0.2 * k)
            h = (60.0, 120.0, 90.0, 160.0)[k]
            actors.append(
                Actor(
                    k % 3 if h > 80 else lfw(),
                    _linear((x, height * 0.5, h), (x + 40, height * 0.5, h), d),
                )
            )
    return actors


def _shifted(path: Path, t0: float) -> Path:
    return lambda t: path(t - t0)


def place_face(
    picture: np.ndarray, sprite: Sprite, actor: Actor, t: float, cv2: Any
) -> tuple[float, float, float, float] | None:
    cx, cy, face_h = actor.path(t)
    fx1, fy1, fx2, fy2 = sprite.face
    sh = face_h / (fy2 - fy1)
    sw = sh * sprite.image.shape[1] / sprite.image.shape[0]
    tw, th = max(4, round(sw * actor.squash_x)), max(4, round(sh * actor.squash_y))
    image = cv2.resize(
        sprite.image,
        (tw, th),
        interpolation=cv2.INTER_AREA if th < sprite.image.shape[0] else cv2.INTER_CUBIC,
    )
    yy, xx = np.mgrid[0:th, 0:tw]
    dist = ((xx - (tw - 1) / 2) / (tw / 2)) ** 2 + ((yy - (th - 1) / 2) / (th / 2)) ** 2
    alpha = np.clip((1.15 - dist) / 0.3, 0, 1).astype(np.float32)
    corners = np.array(
        [[fx1 * tw, fy1 * th], [fx2 * tw, fy1 * th], [fx2 * tw, fy2 * th], [fx1 * tw, fy2 * th]],
        np.float32,
    )
    # Rotate around the face centre, onto a canvas big enough for any angle.
    side = math.ceil(math.hypot(tw, th)) + 2
    fcx, fcy = (fx1 + fx2) / 2 * tw, (fy1 + fy2) / 2 * th
    matrix = cv2.getRotationMatrix2D((fcx, fcy), -actor.tilt, 1.0)
    matrix[0, 2] += side / 2 - fcx
    matrix[1, 2] += side / 2 - fcy
    image = cv2.warpAffine(image, matrix, (side, side), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(alpha, matrix, (side, side), flags=cv2.INTER_LINEAR)
    moved = corners @ matrix[:, :2].T + matrix[:, 2]
    ox, oy = round(cx - side / 2), round(cy - side / 2)
    height, width = picture.shape[:2]
    x0, y0, x1, y1 = max(0, ox), max(0, oy), min(width, ox + side), min(height, oy + side)
    if x1 <= x0 or y1 <= y0:
        return None
    a = alpha[y0 - oy : y1 - oy, x0 - ox : x1 - ox, None]
    region = picture[y0:y1, x0:x1]
    region[...] = (image[y0 - oy : y1 - oy, x0 - ox : x1 - ox] * a + region * (1 - a)).astype(
        np.uint8
    )
    bx1, by1 = moved[:, 0].min() + ox, moved[:, 1].min() + oy
    bx2, by2 = moved[:, 0].max() + ox, moved[:, 1].max() + oy
    return (float(bx1), float(by1), float(bx2), float(by2))


def _visible(
    box: tuple[float, float, float, float], width: int, height: int
) -> tuple[float, float, float, float] | None:
    x1, y1, x2, y2 = (
        max(0.0, box[0]),
        max(0.0, box[1]),
        min(float(width), box[2]),
        min(float(height), box[3]),
    )
    if x2 <= x1 or y2 <= y1:
        return None
    full = (box[2] - box[0]) * (box[3] - box[1])
    if (x2 - x1) * (y2 - y1) < 0.25 * full or y2 - y1 < 12:
        return None
    return (x1, y1, x2, y2)


def _overlay(picture: np.ndarray, t: float, cv2: Any) -> None:
    """A camera's burned-in overlay: timestamp and device id, white on a dark outline."""
    stamp = f"2026-11-24 14:{int(t) // 60 + 31:02d}:{int(t) % 60:02d}  CAM BWV-0417"
    for colour, thick in (((0, 0, 0), 5), ((255, 255, 255), 2)):
        cv2.putText(
            picture,
            stamp,
            (24, picture.shape[0] - 28),
            cv2.FONT_HERSHEY_SIMPLEX,
            1.0,
            colour,
            thick,
            cv2.LINE_AA,
        )


def _lettering(picture: np.ndarray, t: float, cv2: Any, rng_words: list[str]) -> None:
    for k, word in enumerate(rng_words):
        x = int((80 + 300 * k - 90 * t) % (picture.shape[1] + 200)) - 100
        y = 90 + 110 * (k % 5)
        cv2.putText(
            picture,
            word,
            (x, y),
            cv2.FONT_HERSHEY_DUPLEX,
            1.2 + 0.3 * (k % 3),
            (250, 240, 40) if k % 2 else (20, 20, 20),
            3,
            cv2.LINE_AA,
        )


def make_scene_clip(
    path: str | os.PathLike[str],
    scene: str,
    *,
    seed: int = 7,
    duration_s: float = 2.0,
    width: int = 1280,
    height: int = 720,
    fps: float = 25.0,
    crf: int = 18,
) -> EvalClip:
    """Write one hard scene (H.264, no audio) and return it with its ground truth."""
    import cv2

    if scene not in SCENES:
        raise ValueError(f"unknown scene {scene!r}: one of {', '.join(SCENES)}")
    rng = np.random.default_rng(seed + SCENES.index(scene))
    faces = sprites()
    back_name = {"noface": "brick", "night": "gravel", "crowd": "coffee"}.get(scene, "grass")
    back = backdrop(back_name, width, height)
    if scene == "noface":
        page = _skimage_data().page()
        ph, pw = page.shape
        back[60 : 60 + ph, 400 : 400 + pw] = page[..., None]
        text = _skimage_data().text()
        back[500 : 500 + text.shape[0], 900 : 900 + text.shape[1]] = text[..., None]
    actors = scene_actors(scene, width, height, duration_s, rng)
    words = ["POLICE", "STOP", "BUS LANE", "Kebab & Pizza", "EXIT", "No Entry", "24h", "TAXI"]
    rate = Fraction(fps).limit_denominator(1001)
    n = round(duration_s * fps)
    clip = EvalClip(os.fspath(path), width, height, float(rate), n)
    pan_speed = {"shake": 700.0, "night": 30.0}.get(scene, 40.0)
    with av.open(os.fspath(path), mode="w", format="mp4") as out:
        video = out.add_stream(
            "libx264", rate=rate, options={"preset": "veryfast", "crf": str(crf), "bf": "0"}
        )
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        for index in range(n):
            t = index / float(rate)
            clip.times.append(round(t, 6))
            # Quick pans go one way, then back (a head turning).
            phase = (t % 1.2) / 1.2
            ox = (
                (back.shape[1] - width) / 2
                + pan_speed * 0.6 * (phase if phase < 0.5 else 1 - phase)
                - pan_speed * 0.15
            )
            ox = int(max(0, min(back.shape[1] - width, ox)))
            oy = int((back.shape[0] - height) / 2)
            picture = back[oy : oy + height, ox : ox + width].copy()
            boxes: list[tuple[int, tuple[float, float, float, float]]] = []
            for k, actor in enumerate(actors):
                if actor.t_in <= t < actor.t_out:
                    box = place_face(picture, faces[actor.sprite], actor, t, cv2)
                    if box is not None:
                        boxes.append((k, box))
            if scene == "occluders":
                for j in range(3):  # posts and passers-by crossing at different speeds
                    bx = int((j * 400 + (260 + 120 * j) * t) % (width + 300)) - 150
                    cv2.rectangle(
                        picture, (bx, 0), (bx + 70 + 30 * j, height), (35 + 30 * j, 30, 40), -1
                    )
                # Faces stay listed while hidden: whether any of one shows is measured
                # (band-pass energy in the input), not assumed.
            if scene == "noface":
                _lettering(picture, t, cv2, words)
            picture, shift, noise = _camera(picture, scene, t, rng, cv2)
            if scene == "noface":
                _overlay(picture, t, cv2)
            truth, detail = [], []
            gray = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
            for k, box in boxes:
                moved = (box[0] + shift[0], box[1] + shift[1], box[2] + shift[0], box[3] + shift[1])
                seen = _visible(moved, width, height)
                if seen is not None:
                    truth.append(FaceBox(k, seen))
                    detail.append(band_energy(gray, seen))
            clip.truth.append(truth)
            clip.detail.append(detail)
            if noise is not None:
                picture = np.clip(picture.astype(np.float32) + noise, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, 1) / rate
            out.mux(video.encode(frame))
        out.mux(video.encode())
    return clip


def _camera(
    picture: np.ndarray, scene: str, t: float, rng: np.random.Generator, cv2: Any
) -> tuple[np.ndarray, tuple[float, float], np.ndarray | None]:
    """What the camera adds: head-mounted shake and motion blur, or night exposure (and
    the sensor noise to add once the faces' own detail has been measured)."""
    if scene == "shake":
        dx = 22 * math.sin(t * 2 * math.pi * 3.1) + float(rng.normal(0, 6))
        dy = 14 * math.sin(t * 2 * math.pi * 4.3 + 1) + float(rng.normal(0, 4))
        matrix = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
        picture = cv2.warpAffine(
            picture, matrix, (picture.shape[1], picture.shape[0]), borderMode=cv2.BORDER_REFLECT
        )
        length = 3 + int(abs(dx) // 3)
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        return cv2.filter2D(picture, -1, kernel), (dx, dy), None
    if scene == "night":
        height, width = picture.shape[:2]
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        cx, cy = width * (0.35 + 0.3 * math.sin(t * 1.7)), height * 0.5
        torch = 1.8 * np.exp(-(((xx - cx) / 220) ** 2 + ((yy - cy) / 160) ** 2))
        lit = picture.astype(np.float32) * (0.18 + torch)[..., None]
        noise = rng.normal(0, 9, size=lit.shape).astype(np.float32)
        return np.clip(lit, 0, 255).astype(np.uint8), (0.0, 0.0), noise
    return picture, (0.0, 0.0), None
