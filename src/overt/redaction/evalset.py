"""An evaluation set for face redaction, with ground truth, built from packaged images.

Real faces come from images shipped inside scikit-image (a development dependency):
the astronaut portrait (Eileen Collins, NASA, public domain) and the 100 face crops of
its Labeled Faces in the Wild subset. They are composited, moving, onto moving
backgrounds made from scikit-image's photographs (brick, grass, gravel, ...), at
several sizes, some with motion or focus blur, some partly occluded by a passing bar,
some appearing and disappearing mid-clip. Every frame's ground-truth face boxes are
known exactly.

Used by the tests and by bench/redaction.py. Nothing is downloaded. Just over 400 lines
because the backdrops, the movers and the clip writer share one set of private helpers.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
import numpy as np

BACKGROUNDS = ("brick", "grass", "gravel", "coffee", "rocket", "hubble_deep_field")
# Astronaut: the face (forehead to chin) inside the 512 x 512 portrait.
_ASTRONAUT_HEAD = (140, 10, 312, 214)  # crop: hair, face, neck
_ASTRONAUT_FACE = (180, 60, 272, 182)
# LFW crops are 25 x 25 and tight on the face.
_LFW_FACE = (0.08, 0.04, 0.92, 1.0)
AUDIO_RATE = 48_000


@dataclass(frozen=True, slots=True)
class FaceBox:
    face: int  # which moving face
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in upright pixels


@dataclass(slots=True)
class EvalClip:
    path: str
    width: int  # upright
    height: int
    fps: float
    frames: int
    truth: list[list[FaceBox]] = field(default_factory=list)  # per frame
    times: list[float] = field(default_factory=list)  # per frame, seconds
    # Per frame, per face (as in `truth`): band-pass energy of the face as drawn, before
    # sensor noise (see overt.redaction.recognisability); empty where not measured.
    detail: list[list[float]] = field(default_factory=list)

    @property
    def face_frames(self) -> int:
        return sum(1 for boxes in self.truth if boxes)


def _skimage_data() -> Any:  # scikit-image's data module (untyped)
    try:
        from skimage import data
    except ImportError as exc:  # pragma: no cover - a dev dependency
        raise RuntimeError(
            "the redaction evaluation set needs scikit-image (pip install -e '.[dev]')"
        ) from exc
    return data


@dataclass(slots=True)
class _Sprite:
    image: np.ndarray  # RGB
    face: tuple[float, float, float, float]  # fractions of the sprite


def face_sprites() -> list[_Sprite]:
    data = _skimage_data()
    sprites = []
    astro = data.astronaut()
    hx1, hy1, hx2, hy2 = _ASTRONAUT_HEAD
    fx1, fy1, fx2, fy2 = _ASTRONAUT_FACE
    hw, hh = hx2 - hx1, hy2 - hy1
    head = astro[hy1:hy2, hx1:hx2]
    face = ((fx1 - hx1) / hw, (fy1 - hy1) / hh, (fx2 - hx1) / hw, (fy2 - hy1) / hh)
    sprites.append(_Sprite(np.ascontiguousarray(head), face))
    sprites.append(
        _Sprite(np.ascontiguousarray(head[:, ::-1]), (1 - face[2], face[1], 1 - face[0], face[3]))
    )
    lfw = data.lfw_subset()[:100]
    rng = np.random.default_rng(25)
    for crop in lfw:
        grey = (crop * 255).astype(np.uint8)
        tint = rng.uniform(0.75, 1.15, size=3)
        rgb = np.clip(grey[..., None] * tint[None, None, :], 0, 255).astype(np.uint8)
        sprites.append(_Sprite(rgb, _LFW_FACE))
    return sprites


def backdrop(name: str, width: int, height: int) -> np.ndarray:
    import cv2

    data = _skimage_data()
    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    image = image[..., :3]
    scale = max(width * 1.5 / image.shape[1], height * 1.5 / image.shape[0])
    size = (math.ceil(image.shape[1] * scale), math.ceil(image.shape[0] * scale))
    resized: np.ndarray = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    return resized


@dataclass(slots=True)
class _Mover:
    sprite: _Sprite
    face_h: float  # face height in pixels at t=0
    grow: float  # size factor per second (log)
    x: float
    y: float
    vx: float
    vy: float
    t_in: float
    t_out: float
    motion_blur: bool
    defocus: bool
    occluded: bool


def _movers(
    rng: np.random.Generator,
    count: int,
    width: int,
    height: int,
    duration: float,
    sizes: tuple[float, float],
) -> list[_Mover]:
    sprites = face_sprites()
    movers = []
    for k in range(count):
        sprite = (
            sprites[int(rng.integers(0, 2))]
            if k % 3 == 0
            else sprites[int(rng.integers(2, len(sprites)))]
        )
        face_h = float(math.exp(rng.uniform(math.log(sizes[0]), math.log(sizes[1]))))
        t_in = 0.0 if rng.random() < 0.6 else float(rng.uniform(0, duration * 0.5))
        t_out = (
            duration + 1
            if rng.random() < 0.6
            else float(rng.uniform(t_in + duration * 0.3, duration))
        )
        speed = float(rng.uniform(20, 260))
        angle = float(rng.uniform(0, 2 * math.pi))
        movers.append(
            _Mover(
                sprite=sprite,
                face_h=face_h,
                grow=float(rng.uniform(-0.15, 0.15)),
                x=float(rng.uniform(0.1, 0.8) * width),
                y=float(rng.uniform(0.15, 0.75) * height),
                vx=speed * math.cos(angle),
                vy=speed * math.sin(angle) * 0.5,
                t_in=t_in,
                t_out=t_out,
                motion_blur=rng.random() < 0.3,
                defocus=rng.random() < 0.2,
                occluded=rng.random() < 0.3,
            )
        )
    return movers


def _bounce(position: float, low: float, high: float) -> float:
    span = high - low
    if span <= 0:
        return low
    p = (position - low) % (2 * span)
    return low + (p if p <= span else 2 * span - p)


def make_eval_clip(
    path: str | os.PathLike[str],
    *,
    seed: int,
    duration_s: float = 4.0,
    width: int = 1280,
    height: int = 720,
    fps: float = 25.0,
    faces: int = 3,
    sizes: tuple[float, float] = (28.0, 180.0),
    background: str | None = None,
    rotation: int = 0,
    with_audio: bool = True,
    vfr: bool = False,
    crf: int = 20,
) -> EvalClip:
    """Write an H.264/AAC MP4 of moving real faces over a moving real background.

    `rotation` stores the picture turned and adds the display matrix that turns it
    back, as a sideways-mounted camera does; ground truth is always upright. `vfr`
    spaces frames unevenly (alternating 1x and 2x the nominal interval). Audio is a
    440 Hz tone with a 5 ms click every half second, for sync and mute checks.
    """
    import cv2

    rng = np.random.default_rng(seed)
    name = background or BACKGROUNDS[seed % len(BACKGROUNDS)]
    back = backdrop(name, width, height)
    movers = _movers(rng, faces, width, height, duration_s, sizes)
    rate = Fraction(fps).limit_denominator(1001)
    tb = Fraction(1, 90_000)
    times: list[float] = []
    ticks = 0  # in nominal frame intervals
    while ticks / rate < duration_s - 1e-9:
        times.append(round(float(ticks / rate), 6))
        ticks += 2 if vfr and len(times) % 2 == 0 else 1
    clip = EvalClip(os.fspath(path), width, height, float(rate), len(times), times=times)
    pan = rng.uniform(-60, 60, size=2)
    shake = rng.uniform(1.0, 3.0, size=2)
    coded_w, coded_h = (height, width) if rotation in (90, 270) else (width, height)
    with av.open(os.fspath(path), mode="w", format="mp4") as out:
        video = out.add_stream(
            "libx264", rate=rate, options={"preset": "veryfast", "crf": str(crf), "bf": "0"}
        )
        video.width, video.height = coded_w, coded_h
        odd = coded_w % 2 or coded_h % 2
        video.pix_fmt = "yuv444p" if odd else "yuv420p"
        video.codec_context.time_base = tb
        video.time_base = tb
        if rotation:
            video.set_display_rotation(-rotation)
        sound = out.add_stream("aac", rate=AUDIO_RATE, layout="mono") if with_audio else None
        audio = _audio(duration_s) if with_audio else None
        next_sample = 0
        for _index, t in enumerate(times):
            ox = (back.shape[1] - width) / 2 + pan[0] * t + 8 * math.sin(t * shake[0] * 2 * math.pi)
            oy = (
                (back.shape[0] - height) / 2 + pan[1] * t + 6 * math.sin(t * shake[1] * 2 * math.pi)
            )
            ox = int(max(0, min(back.shape[1] - width, ox)))
            oy = int(max(0, min(back.shape[0] - height, oy)))
            picture = back[oy : oy + height, ox : ox + width].copy()
            truth: list[FaceBox] = []
            for k, mover in enumerate(movers):
                if not (mover.t_in <= t < mover.t_out):
                    continue
                box = _draw(picture, mover, t, rng, cv2)
                if box is not None:
                    truth.append(FaceBox(k, box))
            clip.truth.append(truth)
            if rotation:
                picture = np.ascontiguousarray(np.rot90(picture, k=rotation // 90))
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = round(t / tb)
            frame.time_base = tb
            out.mux(video.encode(frame))
            if sound is not None and audio is not None:
                due = min(len(audio), round((t + 1 / float(rate)) * AUDIO_RATE))
                while next_sample < due:
                    out.mux(sound.encode(_audio_frame(audio, next_sample)))
                    next_sample += 1024
        out.mux(video.encode())
        if sound is not None and audio is not None:
            while next_sample < len(audio):
                out.mux(sound.encode(_audio_frame(audio, next_sample)))
                next_sample += 1024
            out.mux(sound.encode())
    return clip


def _draw(
    picture: np.ndarray, mover: _Mover, t: float, rng: np.random.Generator, cv2: Any
) -> tuple[float, float, float, float] | None:
    sprite = mover.sprite
    fx1, fy1, fx2, fy2 = sprite.face
    face_h = mover.face_h * math.exp(mover.grow * t)
    sprite_h = face_h / (fy2 - fy1)
    sprite_w = sprite_h * sprite.image.shape[1] / sprite.image.shape[0]
    sw, sh = max(4, round(sprite_w)), max(4, round(sprite_h))
    height, width = picture.shape[:2]
    if sw >= width or sh >= height:
        return None
    x = _bounce(mover.x + mover.vx * t, 0, width - sw)
    y = _bounce(mover.y + mover.vy * t, 0, height - sh)
    x0, y0 = round(x), round(y)
    image = cv2.resize(
        sprite.image,
        (sw, sh),
        interpolation=cv2.INTER_AREA if sh < sprite.image.shape[0] else cv2.INTER_CUBIC,
    )
    if mover.defocus:
        k = max(3, sh // 12) | 1
        image = cv2.GaussianBlur(image, (k, k), 0)
    if mover.motion_blur:
        length = max(3, int(math.hypot(mover.vx, mover.vy) / 25))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        image = cv2.filter2D(image, -1, kernel)
    # Feathered oval alpha so the sprite blends into the scene.
    yy, xx = np.mgrid[0:sh, 0:sw]
    d = ((xx - (sw - 1) / 2) / (sw / 2)) ** 2 + ((yy - (sh - 1) / 2) / (sh / 2)) ** 2
    alpha = np.clip((1.15 - d) / 0.3, 0, 1)[..., None]
    region = picture[y0 : y0 + sh, x0 : x0 + sw]
    region[...] = (image * alpha + region * (1 - alpha)).astype(np.uint8)
    box = (x0 + fx1 * sw, y0 + fy1 * sh, x0 + fx2 * sw, y0 + fy2 * sh)
    if mover.occluded:
        # A bar sweeping across, covering up to a third of the face's width.
        phase = (t * 0.8) % 1.0
        bx = int(box[0] + (box[2] - box[0]) * (phase * 1.6 - 0.3))
        bw = max(2, int((box[2] - box[0]) / 3))
        x_lo, x_hi = max(0, bx), min(width, bx + bw)
        if x_hi > x_lo:
            picture[max(0, y0 - 4) : min(height, y0 + sh + 4), x_lo:x_hi] = (40, 40, 48)
    return box


def _audio(duration_s: float) -> np.ndarray:
    n = round(duration_s * AUDIO_RATE)
    t = np.arange(n) / AUDIO_RATE
    signal = 0.3 * np.sin(2 * np.pi * 440 * t)
    click = round(0.005 * AUDIO_RATE)
    for start in range(0, n, AUDIO_RATE // 2):
        signal[start : start + click] = 0.9
    return signal.astype(np.float32)


def _audio_frame(audio: np.ndarray, start: int) -> av.AudioFrame:
    chunk = audio[start : start + 1024]
    frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
    frame.sample_rate = AUDIO_RATE
    frame.pts = start
    return frame


# --- scoring ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Score:
    faces: int  # ground-truth face instances (face x frame)
    covered: int
    masks: int  # mask boxes drawn
    true_masks: int  # masks on a face
    frames_with_faces: int
    frames_uncovered: int  # frames where some face was not covered

    @property
    def recall(self) -> float:
        return self.covered / self.faces if self.faces else 1.0

    @property
    def precision(self) -> float:
        return self.true_masks / self.masks if self.masks else 1.0

    @property
    def uncovered_share(self) -> float:
        return self.frames_uncovered / self.frames_with_faces if self.frames_with_faces else 0.0


def _area(box: tuple[float, float, float, float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def covered_fraction(
    face: tuple[float, float, float, float], masks: list[tuple[float, float, float, float]]
) -> float:
    """Share of the face box under the union of masks (rasterised on a 1 px grid)."""
    x1, y1 = math.floor(face[0]), math.floor(face[1])
    x2, y2 = math.ceil(face[2]), math.ceil(face[3])
    if x2 <= x1 or y2 <= y1:
        return 1.0
    grid = np.zeros((y2 - y1, x2 - x1), bool)
    for m in masks:
        mx1, my1 = max(x1, math.floor(m[0])), max(y1, math.floor(m[1]))
        mx2, my2 = min(x2, math.ceil(m[2])), min(y2, math.ceil(m[3]))
        if mx2 > mx1 and my2 > my1:
            grid[my1 - y1 : my2 - y1, mx1 - x1 : mx2 - x1] = True
    return float(grid.mean())


def score(
    truth: list[list[FaceBox]],
    masks: list[list[tuple[float, float, float, float]]],
    *,
    cover: float = 0.9,
    true_mask: float = 0.5,
) -> Score:
    """Per-frame scoring. A face counts as covered when masks hide at least `cover` of
    its box; a mask counts as true when it hides at least `true_mask` of some face."""
    faces = covered = n_masks = true_masks = with_faces = uncovered = 0
    for gt, drawn in zip(truth, masks, strict=True):
        faces += len(gt)
        missed = 0
        for item in gt:
            if covered_fraction(item.box, drawn) >= cover:
                covered += 1
            else:
                missed += 1
        if gt:
            with_faces += 1
            uncovered += 1 if missed else 0
        n_masks += len(drawn)
        for m in drawn:
            if any(covered_fraction(item.box, [m]) >= true_mask for item in gt):
                true_masks += 1
    return Score(faces, covered, n_masks, true_masks, with_faces, uncovered)
