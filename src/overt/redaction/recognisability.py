"""Is a face still recognisable in a redacted copy? Measured, not assumed from boxes.

People recognise faces mostly from detail between about 4 and 25 cycles across the
face (eyes, brows, nose, mouth shapes); blur, pixelation and solid fill all remove that
band. So each ground-truth face is scored by its **band-pass energy**: the mean square
of a difference of Gaussians (sigma h/50 minus sigma h/8, h the face's height) over the
face box, in the input and in the output, on the decoded luma of both files. Their
ratio says how much facial detail survived:

- a face counts only where the input shows it: the energy of the face as drawn, before
  sensor noise, times its height in pixels is at least `SHOWN_FLOOR` (a big face
  shows at lower contrast than a small one; a face behind an occluder or lost in the
  dark is not a face to leak, and noise is not facial detail). Where the evaluation
  clip does not know the noise-free energy, the input's own stands in;
- it **leaks** when the output keeps at least `LEAK_RATIO` of the input's energy.

The threshold was checked by eye on crops (see docs/redaction.md: a third of the
detail left is a face you could pick out of a line-up when it is 40 px or more; a
tenth is a smudge). A frame leaks when any face in it leaks.

`changed_frames` is the false-positive measure for clips with no faces: a frame counts
when any 32 x 32 block of the output differs from the input by more than
re-encoding does.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import av
import numpy as np

from .evalset import FaceBox

LEAK_RATIO = 0.3
# Checked by eye on night crops (sensor noise sigma 9): a 250 px face at energy 26 and
# a 28 px face at 85 are recognisable; a 40 px face at 32 or a 28 px one at 24 are not.
SHOWN_FLOOR = 1600.0  # grey levels squared x pixels of face height
SIZE_BANDS = ((0, 32), (32, 64), (64, 128), (128, 10_000))
CHANGE_BLOCK = 32
CHANGE_LEVEL = 9.0  # mean absolute grey difference in a block; x264 at crf 18-23 stays under 4


def band_energy(gray: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """Mean squared band-pass response inside `box` (pixels) of a greyscale picture."""
    import cv2

    height, width = gray.shape
    x1, y1 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
    x2, y2 = min(width, math.ceil(box[2])), min(height, math.ceil(box[3]))
    if x2 - x1 < 2 or y2 - y1 < 2:
        return 0.0
    h = max(box[3] - box[1], 1.0)
    pad = math.ceil(h / 4)
    px1, py1 = max(0, x1 - pad), max(0, y1 - pad)
    px2, py2 = min(width, x2 + pad), min(height, y2 + pad)
    region = gray[py1:py2, px1:px2].astype(np.float32)
    fine = cv2.GaussianBlur(region, (0, 0), max(0.6, h / 50))
    coarse = cv2.GaussianBlur(region, (0, 0), max(1.5, h / 8))
    band = (fine - coarse)[y1 - py1 : y2 - py1, x1 - px1 : x2 - px1]
    return float(np.mean(band * band))


@dataclass(frozen=True, slots=True)
class FaceVerdict:
    frame: int
    face: int
    height: float
    energy_in: float
    energy_out: float
    detail: float  # the face's own band-pass energy, noise-free

    @property
    def shown(self) -> bool:
        return self.detail * self.height >= SHOWN_FLOOR

    @property
    def ratio(self) -> float:
        return self.energy_out / self.energy_in if self.energy_in > 0 else 0.0

    @property
    def leaked(self) -> bool:
        return self.shown and self.ratio >= LEAK_RATIO


@dataclass(slots=True)
class LeakReport:
    verdicts: list[FaceVerdict] = field(default_factory=list)
    frames: int = 0

    def add(self, other: LeakReport) -> None:
        offset = self.frames
        self.verdicts += [
            FaceVerdict(v.frame + offset, v.face, v.height, v.energy_in, v.energy_out, v.detail)
            for v in other.verdicts
        ]
        self.frames += other.frames

    @property
    def face_frames(self) -> int:
        return len({v.frame for v in self.verdicts if v.shown})

    @property
    def leak_frames(self) -> int:
        return len({v.frame for v in self.verdicts if v.leaked})

    @property
    def leak_share(self) -> float:
        return self.leak_frames / self.face_frames if self.face_frames else 0.0

    def recall(self, low: float = 0, high: float = 1e9) -> tuple[int, int]:
        """(faces hidden, faces shown) among faces whose height is in [low, high)."""
        shown = [v for v in self.verdicts if v.shown and low <= v.height < high]
        return sum(1 for v in shown if not v.leaked), len(shown)


def gray_frames(path: str | os.PathLike[str]) -> Iterator[np.ndarray]:
    with av.open(os.fspath(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="gray")


def measure(
    source: str | os.PathLike[str],
    redacted: str | os.PathLike[str],
    truth: Sequence[Sequence[FaceBox]],
    detail: Sequence[Sequence[float]] = (),
) -> LeakReport:
    """Score every ground-truth face of every frame, input against output. `detail`
    (per frame, per face) is each face's noise-free energy, where the clip knows it."""
    report = LeakReport()
    outputs = gray_frames(redacted)
    for index, (before, boxes) in enumerate(zip(gray_frames(source), truth, strict=False)):
        after = next(outputs, None)
        if after is None:
            raise ValueError(f"{os.fspath(redacted)} has fewer frames than its source")
        if after.shape != before.shape:
            import cv2

            after = cv2.resize(after, (before.shape[1], before.shape[0]))
        known = detail[index] if index < len(detail) else []
        for k, item in enumerate(boxes):
            energy_in = band_energy(before, item.box)
            report.verdicts.append(
                FaceVerdict(
                    index,
                    item.face,
                    item.box[3] - item.box[1],
                    energy_in,
                    band_energy(after, item.box),
                    known[k] if k < len(known) else energy_in,
                )
            )
        report.frames += 1
    return report


def changed_frames(source: str | os.PathLike[str], redacted: str | os.PathLike[str]) -> list[int]:
    """Frames where some block of the output was visibly altered (masked), by index."""
    import cv2

    changed = []
    outputs = gray_frames(redacted)
    for index, before in enumerate(gray_frames(source)):
        after = next(outputs, None)
        if after is None:
            break
        diff = cv2.absdiff(before, after).astype(np.float32)
        block = cv2.resize(
            diff,
            (max(1, diff.shape[1] // CHANGE_BLOCK), max(1, diff.shape[0] // CHANGE_BLOCK)),
            interpolation=cv2.INTER_AREA,
        )
        if float(block.max()) > CHANGE_LEVEL:
            changed.append(index)
    return changed
