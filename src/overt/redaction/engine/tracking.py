"""From per-frame detections to tracks that cover every frame a face is in.

Over 400 lines on purpose: linking, gap filling, coasting, edge lead and speed growth
all read and write one Track state; split, each piece would need the others' internals.

Detectors run on sampled frames (every `stride`-th frame) and miss now and then. This
module links those detections into tracks and decides which box covers each frame:

- **Linking** matches each new detection to the box a track predicts for that instant
  (constant velocity from its last two samples), by IoU, falling back to centre
  distance for small, fast boxes whose prediction and detection do not overlap.
- **Gap filling**: a track survives `max_missed` sampled frames without a detection;
  the frames in between are interpolated, so a face missed for a frame or two stays
  covered.
- **Lead and trail**: a face may have appeared at any time since the previous sampled
  frame, so a track also covers back to just after the last sample that did not see
  it, and forward to just before the next (extrapolated at its velocity).
- **Keyframes**: a reviewer's boxes are samples too (`manual=True`); the box between
  two keyframes is their linear interpolation, and a manual keyframe replaces any
  detection at its instant.
- **Before the first detection**: a face the detector finds at frame N was almost
  always there at N-k, too small, blurred, turned or dark for the detector. Every
  track starts `lead_s` before its first detection, its box moved back along its
  velocity; a track whose first box touches the picture's edge starts `edge_lead_s`
  earlier (the face was partly in the picture before the detector could see enough
  of it). Velocity is measured over up to `VELOCITY_WINDOW_S` of samples, so one
  jittery pair does not throw the box far off.
- **Coasting**: a track the detector stops seeing lives on for `coast_s` seconds at its
  predicted position (constant velocity), and is masked for all of that time: a face
  the detector loses for a second (blur, a turn, the dark) stays covered.
- **Speed growth**: a moving box is grown by its speed times `SPEED_MARGIN_S` on every
  side, and by more the further it is from a detection (prediction is less sure).
- **Margin**: boxes are grown by a fraction of their size on each side at render time;
  a face's box grows into a whole-head mask (more above for hair, the sides for ears,
  below for the chin).

Times are seconds on the recording's timeline (zero at its first frame); boxes are
normalised upright (x1, y1, x2, y2). Everything here is pure and deterministic.
Over 400 lines because linking, streaming and the covering geometry must agree to the
frame (a test checks streamed boxes against finished tracks), so they are read together.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .detectors import Box, Found, iou

if TYPE_CHECKING:
    from .camera import CameraMotion


@dataclass(frozen=True, slots=True)
class Sample:
    t: float
    box: Box
    score: float = 1.0
    manual: bool = False


@dataclass(slots=True)
class Track:
    """One object through time. Covers [start_t, end_t]; `samples` sorted by t."""

    id: int
    label: str
    detector: str
    samples: list[Sample]
    start_t: float = 0.0
    end_t: float = 0.0
    _times: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.samples.sort(key=lambda s: s.t)
        self._times = [s.t for s in self.samples]
        if self.samples and self.start_t == self.end_t == 0.0:
            self.start_t, self.end_t = self.samples[0].t, self.samples[-1].t

    @property
    def score(self) -> float:
        return max((s.score for s in self.samples), default=0.0)

    def box_at(self, t: float) -> Box | None:
        """The box at time t (interpolated or extrapolated), or None outside the track."""
        if not self.samples or t < self.start_t - 1e-9 or t > self.end_t + 1e-9:
            return None
        return _sample_box(self.samples, self._times, t)

    def cover_at(self, t: float, camera: CameraMotion | None = None) -> Box | None:
        """The box to mask at t before the margin: `box_at` grown with the speed (and
        moved with the camera's jolts, given its motion)."""
        if not self.samples or t < self.start_t - 1e-9 or t > self.end_t + 1e-9:
            return None
        return covering_box(self.samples, self._times, t, camera)

    def with_keyframe(self, sample: Sample) -> Track:
        """A copy with a manual keyframe at sample.t (replacing a sample at that instant)."""
        kept = [s for s in self.samples if abs(s.t - sample.t) > 1e-6]
        kept.append(sample)
        track = Track(self.id, self.label, self.detector, kept, self.start_t, self.end_t)
        track.start_t = min(track.start_t, sample.t)
        track.end_t = max(track.end_t, sample.t)
        return track


@dataclass(frozen=True, slots=True)
class TrackingSettings:
    iou_min: float = 0.1  # least IoU between prediction and detection to link them
    max_missed: int = 2  # sampled frames a track may go unseen and still continue
    centre_factor: float = 1.0  # or link if centres are within this x the box size
    first_step_factor: float = 2.0  # ...or this x, for a track with no velocity yet
    max_growth: float = 2.0  # ...and the sizes differ by less than this factor
    min_samples: int = 1  # tracks with fewer detections are dropped
    min_score: float = 0.0  # ...as are tracks with no detection this strong early on,
    confirm_s: float = 0.3  # ...unless detected twice within this of their first sample
    extend: bool = True  # lead and trail out to the neighbouring sampled frames
    coast_s: float = 1.0  # a track unseen lives on (and is masked) this long
    edge_lead_s: float = 0.5  # a track born at the picture's edge starts this much earlier
    lead_s: float = 0.6  # ...and any other track this much (capped, see _Open.lead_start)


def link(
    sampled: Sequence[tuple[float, Sequence[Found]]],
    *,
    detector: str,
    settings: TrackingSettings | None = None,
    first_id: int = 1,
    end_t: float | None = None,
) -> list[Track]:
    """Link detections at the sampled times into tracks, one label at a time.

    `sampled` lists every instant a detector ran, in time order, with what it found
    there (possibly nothing): an instant with no detection is a miss, not a gap in
    sampling. `end_t` is the time of the last frame, so a trail stops there.
    """
    linker = Linker(settings)
    for t, found in sampled:
        linker.push(t, found)
    return [track for _, track in linker.finish(detector=detector, first_id=first_id, end_t=end_t)]


@dataclass(slots=True)
class _Open:
    key: int
    label: str
    samples: list[Sample]
    start: float  # coverage starts here (just after the previous sampled instant)
    missed: int = 0
    after: float | None = None  # the first sampled instant that missed it, since its last
    times: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.times = [s.t for s in self.samples]

    def lead_start(self, settings: TrackingSettings) -> float:
        """Coverage start: `lead_s` before the first detection, `edge_lead_s` for a face
        that came in across the picture's edge. A streaming render holds frames for
        coast_s, and the backward velocity reads samples up to VELOCITY_WINDOW_S after
        the first, so the lead is capped to leave both inside what it holds."""
        if not settings.extend:
            return self.samples[0].t
        x1, y1, x2, y2 = self.samples[0].box
        at_edge = min(x1, y1, 1 - x2, 1 - y2) <= EDGE
        lead = max(settings.lead_s, settings.edge_lead_s if at_edge else 0.0)
        lead = max(0.0, min(lead, settings.coast_s - VELOCITY_WINDOW_S - 0.05))
        return max(0.0, min(self.start, self.samples[0].t - lead))

    def predict(self, t: float) -> Box:
        return _extrapolate(self.samples, t, backwards=False)

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)
        self.times.append(sample.t)
        self.missed = 0
        self.after = None

    def end(self, end_t: float | None, coast_s: float = 0.0) -> float:
        """Coverage end: `coast_s` after its last detection, or just before the instant
        that first missed it, whichever is later (never past the last frame)."""
        last = self.samples[-1].t
        if self.after is not None:
            end = max(last + coast_s, self.after - (self.after - last) * 0.01)
            return min(end, max(last, end_t)) if end_t is not None else end
        return max(last, end_t) if end_t is not None else last

    def keep(self, settings: TrackingSettings) -> bool:
        """Weak detections (under min_score) make a track only when confirmed: found
        again, or strongly, within confirm_s of the first. Decided on those samples
        alone, so a streaming render (which holds frames for coast_s) knows in time."""
        return len(self.samples) >= settings.min_samples and self.confirmed(settings)

    def confirmed(self, settings: TrackingSettings) -> bool:
        first = self.samples[0].t
        early = [s for s in self.samples if s.t <= first + settings.confirm_s + 1e-9]
        return len(early) >= 2 or max(s.score for s in early) >= settings.min_score


class Linker:
    """Online linking: `push` each sampled instant in time order, then `finish`.

    `push` returns, for each detection, the key of the track it joined, so a caller
    can keep something per track (a thumbnail of its best view) while frames stream by.
    """

    def __init__(self, settings: TrackingSettings | None = None) -> None:
        self.settings = settings or TrackingSettings()
        self.times: list[float] = []
        self._open: list[_Open] = []
        self._closed: list[_Open] = []
        self._live_closed: list[_Open] = []  # closed, not yet behind the render position
        self._next_key = 0

    def push(self, t: float, found: Sequence[Found]) -> list[int]:
        if self.times and t < self.times[-1]:
            raise ValueError("sampled instants must be in time order")
        self.times.append(t)
        keys = [-1] * len(found)
        for label in sorted({f.label for f in found} | {o.label for o in self._open}):
            self._push_label(t, label, found, keys)
        return keys

    def _push_label(self, t: float, label: str, found: Sequence[Found], keys: list[int]) -> None:
        settings = self.settings
        detections = [(i, f) for i, f in enumerate(found) if f.label == label]
        tracks = [o for o in self._open if o.label == label]
        pairs: list[tuple[float, int, int]] = []
        for ti, track in enumerate(tracks):
            predicted = track.predict(t)
            reach = (
                settings.first_step_factor if len(track.samples) == 1 else settings.centre_factor
            )
            for di, (_, det) in enumerate(detections):
                quality = _match_quality(predicted, det.box, settings, reach)
                if quality is not None:
                    pairs.append((quality, ti, di))
        pairs.sort(key=lambda p: -p[0])
        used_tracks: set[int] = set()
        used_dets: set[int] = set()
        for _, ti, di in pairs:
            if ti in used_tracks or di in used_dets:
                continue
            used_tracks.add(ti)
            used_dets.add(di)
            index, det = detections[di]
            tracks[ti].add(Sample(t, det.box, det.score))
            keys[index] = tracks[ti].key
        for ti, track in enumerate(tracks):
            if ti in used_tracks:
                continue
            track.missed += 1
            if track.after is None:
                track.after = t
            if track.missed > settings.max_missed and t - track.samples[-1].t > settings.coast_s:
                self._open.remove(track)
                self._closed.append(track)
                self._live_closed.append(track)
        for track in tracks:  # unconfirmed weak tracks go once their chance has passed
            if t > track.samples[0].t + settings.confirm_s and not track.confirmed(settings):
                if track in self._open:
                    self._open.remove(track)
        before = self.times[-2] if len(self.times) > 1 else None
        start = 0.0 if before is None else before + (t - before) * 0.01
        for di, (index, det) in enumerate(detections):
            if di in used_dets:
                continue
            track = _Open(
                self._next_key,
                label,
                [Sample(t, det.box, det.score)],
                start if settings.extend else t,
            )
            self._next_key += 1
            self._open.append(track)
            keys[index] = track.key

    # --- streaming: boxes for a frame before the whole video has been seen ----------

    def ready(self, t: float) -> bool:
        """True once the boxes at time t can no longer change: enough sampled instants
        after t have been pushed that any gap over t is either filled or closed."""
        later = len(self.times) - bisect.bisect_right(self.times, t + 1e-9)
        if later <= self.settings.max_missed:
            return False
        return self.settings.coast_s <= 0 or self.times[-1] > t + self.settings.coast_s + 1e-9

    def boxes_at(self, t: float, camera: CameraMotion | None = None) -> list[tuple[Box, str]]:
        """Boxes at time t (ungrown), in a forward pass; call only when `ready(t)` (or
        after the last push). Matches the tracks `finish` returns, for the default
        filters (min_samples=1) and any min_score (see `_Open.keep`)."""
        settings = self.settings
        coast = settings.coast_s
        self._live_closed = [
            o for o in self._live_closed if o.end(None, coast) >= t - 1e-9 or not settings.extend
        ]
        out = []
        for item in (*self._live_closed, *self._open):
            if not item.keep(settings):
                continue
            start = item.lead_start(settings)
            end = item.end(None, coast) if settings.extend else item.samples[-1].t
            if item in self._open and item.after is None:
                end = max(end, t)  # still being seen: its end is ahead
            if start - 1e-9 <= t <= end + 1e-9:
                out.append((covering_box(item.samples, item.times, t, camera), item.label))
        return out

    def finish(
        self, *, detector: str, first_id: int = 1, end_t: float | None = None
    ) -> list[tuple[int, Track]]:
        """The tracks worth keeping, numbered from `first_id` in order of appearance."""
        settings = self.settings
        every = self._closed + self._open
        out: list[tuple[int, Track]] = []
        for item in sorted(every, key=lambda o: (o.samples[0].t, o.label, o.samples[0].box)):
            if not item.keep(settings):
                continue
            track = Track(first_id + len(out), item.label, detector, list(item.samples))
            if settings.extend:
                track.start_t = item.lead_start(settings)
                track.end_t = item.end(end_t, settings.coast_s)
            out.append((item.key, track))
        return out


def _match_quality(
    predicted: Box, box: Box, settings: TrackingSettings, factor: float
) -> float | None:
    overlap = iou(predicted, box)
    if overlap >= settings.iou_min:
        return 1.0 + overlap
    pw, ph = predicted[2] - predicted[0], predicted[3] - predicted[1]
    bw, bh = box[2] - box[0], box[3] - box[1]
    size_p, size_b = max(pw, ph, 1e-6), max(bw, bh, 1e-6)
    if max(size_p, size_b) / min(size_p, size_b) > settings.max_growth:
        return None
    dx = (predicted[0] + predicted[2] - box[0] - box[2]) / 2
    dy = (predicted[1] + predicted[3] - box[1] - box[3]) / 2
    distance = (dx * dx + dy * dy) ** 0.5
    reach = factor * (size_p + size_b) / 2
    if distance <= reach:
        closeness: float = 1.0 - distance / reach  # always below any IoU match
        return closeness
    return None


# --- geometry -----------------------------------------------------------------------

EDGE = 0.01  # a box this close to the picture's side touches it (fraction)


def _sample_box(samples: Sequence[Sample], times: Sequence[float], t: float) -> Box:
    i = bisect.bisect_right(times, t)
    if i == 0:
        return _extrapolate(samples, t, backwards=True)
    if i == len(times):
        return _extrapolate(samples, t, backwards=False)
    return interpolate(samples[i - 1], samples[i], t)


# A moving box grows on every side by its speed times this (seconds), plus half the
# time to its nearest detection: a detector's box lags a fast face, and a prediction
# far from any detection is less sure where the face is.
SPEED_MARGIN_S = 0.12


def covering_box(
    samples: Sequence[Sample],
    times: Sequence[float],
    t: float,
    camera: CameraMotion | None = None,
) -> Box:
    """The box to mask at t: the track's box, grown with its speed; with the camera's
    motion, also moved by its jolts since the samples (see overt.redaction.engine.camera)."""
    box = _moving_cover(samples, times, t)
    return camera.steady(box, times, t) if camera is not None else box


def _moving_cover(samples: Sequence[Sample], times: Sequence[float], t: float) -> Box:
    x1, y1, x2, y2 = _sample_box(samples, times, t)
    if len(samples) < 2:
        return (x1, y1, x2, y2)
    i = min(max(bisect.bisect_right(times, t), 1), len(times) - 1)
    a, b = samples[i - 1], samples[i]
    span = b.t - a.t
    if span <= 0:
        return (x1, y1, x2, y2)
    vx = abs((b.box[0] + b.box[2]) - (a.box[0] + a.box[2])) / 2 / span
    vy = abs((b.box[1] + b.box[3]) - (a.box[1] + a.box[3])) / 2 / span
    nearest = min(abs(t - times[i - 1]), abs(t - times[i]))
    if t < times[0] or t > times[-1]:
        nearest = min(abs(t - times[0]), abs(t - times[-1]))
    reach = SPEED_MARGIN_S + 0.5 * min(nearest, 1.0)
    return (x1 - vx * reach, y1 - vy * reach, x2 + vx * reach, y2 + vy * reach)


def interpolate(a: Sample, b: Sample, t: float) -> Box:
    if b.t <= a.t:
        return a.box
    w = (t - a.t) / (b.t - a.t)
    # Two 4-tuples zipped give four values; tuple() is typed as any length.
    return tuple(p + (q - p) * w for p, q in zip(a.box, b.box, strict=True))  # type: ignore[return-value]


# Extrapolation trusts the velocity at a track's end only this far (seconds).
_MAX_EXTRAPOLATION_S = 1.0
# ...and measures it between the end sample and the farthest one within this (seconds):
# over several samples, a shaking camera's jitter averages out.
VELOCITY_WINDOW_S = 0.35


def _extrapolate(samples: Sequence[Sample], t: float, *, backwards: bool) -> Box:
    """Constant velocity at that end of the track; size held, position moved."""
    ordered = samples if backwards else samples[::-1]
    edge = ordered[0]
    other = ordered[1] if len(ordered) > 1 else None
    for sample in ordered[2:]:
        if abs(sample.t - edge.t) > VELOCITY_WINDOW_S + 1e-9:
            break
        other = sample
    if other is None or other.t == edge.t:
        return edge.box
    dt = max(-_MAX_EXTRAPOLATION_S, min(_MAX_EXTRAPOLATION_S, t - edge.t))
    span = edge.t - other.t
    vx = ((edge.box[0] + edge.box[2]) - (other.box[0] + other.box[2])) / 2 / span
    vy = ((edge.box[1] + edge.box[3]) - (other.box[1] + other.box[3])) / 2 / span
    dx, dy = vx * dt, vy * dt
    x1, y1, x2, y2 = edge.box
    return (x1 + dx, y1 + dy, x2 + dx, y2 + dy)


def grow(box: Box, margin: float) -> Box:
    """Grow a box by `margin` x its width (height) on the left and right (top, bottom)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return (x1 - w * margin, y1 - h * margin, x2 + w * margin, y2 + h * margin)


# A face detector's box runs from brow to chin, cheek to cheek. The mask covers the
# whole head: relative to the margin m on each side, 1.7 m above (hair), m at the
# sides (ears), 0.8 m below (chin and jaw).
HEAD_TOP, HEAD_BOTTOM = 1.7, 0.8


def grow_mask(box: Box, margin: float, label: str) -> Box:
    """The area masked for a box: a face grows into its whole head, others evenly."""
    if label != "face":
        return grow(box, margin)
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    return (
        x1 - w * margin,
        y1 - h * margin * HEAD_TOP,
        x2 + w * margin,
        y2 + h * margin * HEAD_BOTTOM,
    )


def clip(box: Box) -> Box | None:
    x1, y1, x2, y2 = (max(0.0, min(1.0, v)) for v in box)
    if x2 <= x1 or y2 <= y1:
        return None
    return (x1, y1, x2, y2)


def manual_track(track_id: int, keyframes: Iterable[Sample], *, label: str = "manual") -> Track:
    """A track drawn by a person: exactly its keyframes' span, interpolated between."""
    samples = [Sample(k.t, k.box, k.score, True) for k in sorted(keyframes, key=lambda k: k.t)]
    if not samples:
        raise ValueError("a manual track needs at least one keyframe")
    return Track(track_id, label, "manual", samples, samples[0].t, samples[-1].t)


def boxes_at(
    tracks: Iterable[Track], t: float, margin: float, camera: CameraMotion | None = None
) -> list[tuple[Box, str]]:
    """Every included box at time t, grown by `margin` and clipped to the picture."""
    out = []
    for track in tracks:
        box = track.cover_at(t, camera)
        if box is None:
            continue
        clipped = clip(grow_mask(box, margin, track.label))
        if clipped is not None:
            out.append((clipped, track.label))
    return out


class Timeline:
    """Fast `boxes_at` over many tracks for a forward pass through the frames."""

    def __init__(self, tracks: Iterable[Track], margin: float) -> None:
        self.tracks = sorted(tracks, key=lambda tr: tr.start_t)
        self.margin = margin
        self.camera: CameraMotion | None = None  # set by a render that measures it
        self._next = 0
        self._live: list[Track] = []

    def at(self, t: float) -> list[tuple[Box, str]]:
        while self._next < len(self.tracks) and self.tracks[self._next].start_t <= t + 1e-9:
            self._live.append(self.tracks[self._next])
            self._next += 1
        self._live = [tr for tr in self._live if tr.end_t >= t - 1e-9]
        return boxes_at(self._live, t, self.margin, self.camera)
