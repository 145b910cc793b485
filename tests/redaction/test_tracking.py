"""Tracking: linking, gap filling, lead/trail, keyframes, margins. Pure functions."""

from __future__ import annotations

import itertools

import pytest

from overt.redaction.engine.detectors import Found
from overt.redaction.engine.tracking import (
    Linker,
    Sample,
    Timeline,
    Track,
    TrackingSettings,
    boxes_at,
    clip,
    grow,
    iou,
    link,
    manual_track,
)

FPS = 25.0


def box_at(x: float, y: float, size: float = 0.1) -> tuple[float, float, float, float]:
    return (x, y, x + size, y + size)


def moving(
    frames: range, *, x0: float = 0.1, vx: float = 0.01, y: float = 0.4, label: str = "face"
):
    """One face moving right at vx per frame, as detections at the given frames."""
    return {i: [Found(box_at(x0 + vx * i, y), 0.9, label)] for i in frames}


def sampled(found_at: dict[int, list[Found]], frames: int, stride: int):
    return [(i / FPS, found_at.get(i, [])) for i in range(0, frames, stride)]


def test_one_moving_face_becomes_one_track_covering_every_frame() -> None:
    found = moving(range(0, 60, 3))
    tracks = link(sampled(found, 60, 3), detector="centerface", end_t=59 / FPS)
    assert len(tracks) == 1
    track = tracks[0]
    assert (track.id, track.label, track.detector) == (1, "face", "centerface")
    for i in range(60):
        got = track.box_at(i / FPS)
        assert got is not None, i
        expected = box_at(0.1 + 0.01 * i, 0.4)
        assert got == pytest.approx(expected, abs=1e-6), i


def test_missed_detections_are_filled_by_interpolation() -> None:
    found = moving(range(0, 60, 3))
    for gone in (21, 24, 36):  # missed twice in a row, then once
        del found[gone]
    tracks = link(sampled(found, 60, 3), detector="centerface")
    assert len(tracks) == 1
    for i in range(18, 40):
        assert tracks[0].box_at(i / FPS) == pytest.approx(box_at(0.1 + 0.01 * i, 0.4), abs=1e-6)


def test_a_longer_absence_splits_the_track() -> None:
    found = moving(range(0, 60, 3))
    for gone in (21, 24, 27, 30):  # four sampled frames: more than max_missed=2
        del found[gone]
    no_coast = TrackingSettings(coast_s=0.0)
    tracks = link(sampled(found, 60, 3), detector="centerface", settings=no_coast)
    assert len(tracks) == 2
    first, second = tracks
    assert first.samples[-1].t == pytest.approx(18 / FPS)
    assert second.samples[0].t == pytest.approx(33 / FPS)
    # Between them, the lead/trail cover up to the neighbouring sampled frames only.
    assert first.box_at(20 / FPS) is not None and first.box_at(21 / FPS) is None
    assert second.box_at(31 / FPS) is not None and second.box_at(30 / FPS) is None


def test_lead_and_trail_cover_the_frames_between_samples() -> None:
    # Sampled every 3 frames; the face is seen at 9..27, so it may have been there from
    # frame 7 (after the miss at 6) until frame 29 (before the miss at 30).
    found = moving(range(9, 30, 3))
    no_coast = TrackingSettings(coast_s=0.0)
    track = link(sampled(found, 45, 3), detector="centerface", settings=no_coast)[0]
    assert track.box_at(6 / FPS) is None
    assert track.box_at(7 / FPS) is not None
    assert track.box_at(29 / FPS) is not None
    assert track.box_at(30 / FPS) is None
    # Extrapolated at the track's velocity, not just held.
    assert track.box_at(7 / FPS) == pytest.approx(box_at(0.1 + 0.01 * 7, 0.4), abs=1e-6)


def test_without_extension_a_track_spans_its_detections_only() -> None:
    found = moving(range(9, 30, 3))
    track = link(sampled(found, 45, 3), detector="c", settings=TrackingSettings(extend=False))[0]
    assert (track.start_t, track.end_t) == (pytest.approx(9 / FPS), pytest.approx(27 / FPS))


def test_two_crossing_faces_keep_their_identities() -> None:
    a = moving(range(0, 60, 3), x0=0.1, vx=0.012, y=0.40)
    b = moving(range(0, 60, 3), x0=0.8, vx=-0.012, y=0.45)
    found = {i: a[i] + b[i] for i in a}
    tracks = link(sampled(found, 60, 3), detector="c")
    assert len(tracks) == 2
    for track in tracks:
        xs = [s.box[0] for s in track.samples]
        steps = {round(q - p, 4) for p, q in itertools.pairwise(xs)}
        assert len(steps) == 1, steps  # constant velocity: never swapped at the crossing


def test_a_fast_small_face_links_by_centre_distance_when_boxes_do_not_overlap() -> None:
    # 0.02-wide box moving 0.03 per sample: consecutive boxes never overlap.
    found = {i: [Found(box_at(0.1 + 0.01 * i, 0.5, 0.02), 0.8, "face")] for i in range(0, 30, 3)}
    tracks = link(sampled(found, 30, 3), detector="c")
    assert len(tracks) == 1


def test_labels_are_tracked_apart() -> None:
    faces = moving(range(0, 30, 3), label="face")
    plates = moving(range(0, 30, 3), label="plate")
    found = {i: faces[i] + plates[i] for i in faces}
    tracks = link(sampled(found, 30, 3), detector="c")
    assert sorted(t.label for t in tracks) == ["face", "plate"]
    assert [t.id for t in tracks] == [1, 2]


def test_min_samples_and_min_score_drop_flickers() -> None:
    found = moving(range(0, 30, 3))
    found[15] = found[15] + [Found(box_at(0.7, 0.1), 0.25, "face")]  # a one-off blip
    settings = TrackingSettings(min_samples=2)
    assert len(link(sampled(found, 30, 3), detector="c", settings=settings)) == 1
    assert len(link(sampled(found, 30, 3), detector="c")) == 2
    assert (
        len(link(sampled(found, 30, 3), detector="c", settings=TrackingSettings(min_score=0.5)))
        == 1
    )


def test_linker_reports_which_track_each_detection_joined() -> None:
    linker = Linker()
    assert linker.push(0.0, [Found(box_at(0.1, 0.1), 0.9, "face")]) == [0]
    assert linker.push(
        0.1, [Found(box_at(0.6, 0.6), 0.9, "face"), Found(box_at(0.11, 0.1), 0.9, "face")]
    ) == [1, 0]
    tracks = linker.finish(detector="c")
    assert [key for key, _ in tracks] == [0, 1]
    with pytest.raises(ValueError):
        linker.push(0.05, [])


def test_sampled_instants_must_be_in_order() -> None:
    with pytest.raises(ValueError):
        link([(0.2, []), (0.1, [])], detector="c")


def test_manual_keyframes_interpolate_and_bound_the_track() -> None:
    track = manual_track(7, [Sample(2.0, (0.5, 0.5, 0.7, 0.7)), Sample(1.0, (0.1, 0.1, 0.3, 0.3))])
    assert (track.id, track.label, track.start_t, track.end_t) == (7, "manual", 1.0, 2.0)
    assert track.box_at(0.99) is None and track.box_at(2.01) is None
    assert track.box_at(1.5) == pytest.approx((0.3, 0.3, 0.5, 0.5))
    assert all(s.manual for s in track.samples)
    with pytest.raises(ValueError):
        manual_track(1, [])


def test_a_keyframe_replaces_the_detection_at_its_instant_and_extends_the_track() -> None:
    found = moving(range(0, 30, 3))
    track = link(sampled(found, 30, 3), detector="c", settings=TrackingSettings(extend=False))[0]
    moved = track.with_keyframe(Sample(12 / FPS, (0.5, 0.5, 0.6, 0.6), manual=True))
    assert moved.box_at(12 / FPS) == (0.5, 0.5, 0.6, 0.6)
    assert len(moved.samples) == len(track.samples)
    later = moved.with_keyframe(Sample(2.0, (0.2, 0.2, 0.3, 0.3), manual=True))
    assert later.end_t == 2.0 and later.box_at(2.0) == (0.2, 0.2, 0.3, 0.3)


def test_margin_grows_each_side_and_boxes_are_clipped_to_the_picture() -> None:
    assert grow((0.4, 0.4, 0.6, 0.5), 0.5) == pytest.approx((0.3, 0.35, 0.7, 0.55))
    assert clip((-0.1, 0.9, 0.2, 1.3)) == (0.0, 0.9, 0.2, 1.0)
    assert clip((1.1, 0.1, 1.2, 0.2)) is None
    track = Track(1, "face", "c", [Sample(0.0, (0.9, 0.9, 1.0, 1.0))])
    # A face grows into its whole head: 1.7 x the margin above, 0.8 x below.
    [(box, label)] = boxes_at([track], 0.0, 0.3)
    assert label == "face" and box == pytest.approx((0.87, 0.9 - 0.03 * 1.7, 1.0, 1.0))
    plate = Track(2, "plate", "c", [Sample(0.0, (0.4, 0.4, 0.5, 0.5))])
    [(box, _)] = boxes_at([plate], 0.0, 0.3)
    assert box == pytest.approx((0.37, 0.37, 0.53, 0.53))


def test_a_lost_face_coasts_at_its_velocity_and_stays_masked_for_coast_s() -> None:
    found = moving(range(0, 30, 3))  # seen until frame 27, then never again
    track = link(sampled(found, 90, 3), detector="c", end_t=89 / FPS)[0]
    assert track.end_t == pytest.approx(27 / FPS + 1.0)
    # Half a second after it was lost, it is masked where it was heading, not held.
    got = track.box_at(27 / FPS + 0.4)
    assert got == pytest.approx(box_at(0.1 + 0.01 * (27 + 0.4 * FPS), 0.4), abs=1e-6)
    assert track.box_at(27 / FPS + 1.1) is None


def test_a_face_lost_for_less_than_coast_s_is_one_track() -> None:
    found = moving(range(0, 60, 3))
    for gone in range(15, 36, 3):  # 0.84 s unseen
        del found[gone]
    tracks = link(sampled(found, 60, 3), detector="c", end_t=59 / FPS)
    assert len(tracks) == 1
    for i in range(60):
        assert tracks[0].box_at(i / FPS) is not None, i


def test_a_moving_box_is_grown_with_its_speed() -> None:
    still = link(sampled(moving(range(0, 30, 3), vx=0.0), 30, 3), detector="c")[0]
    fast = link(sampled(moving(range(0, 30, 3), vx=0.02), 30, 3), detector="c")[0]
    t = 13 / FPS  # between two samples
    assert still.cover_at(t) == pytest.approx(still.box_at(t))
    fast_box, fast_cover = fast.box_at(t), fast.cover_at(t)
    assert fast_box is not None and fast_cover is not None
    grown = fast_cover[2] - fast_cover[0] - (fast_box[2] - fast_box[0])
    assert grown > 2 * 0.02 * FPS * 0.12 * 0.99  # speed x SPEED_MARGIN_S on each side
    assert fast_cover[1] == pytest.approx(fast_box[1])  # not moving up or down


def test_iou() -> None:
    assert iou((0, 0, 1, 1), (0, 0, 1, 1)) == 1.0
    assert iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert iou((0, 0, 2, 1), (1, 0, 3, 1)) == pytest.approx(1 / 3)


def test_timeline_matches_boxes_at_on_a_forward_pass() -> None:
    found = {**moving(range(0, 30, 3)), **moving(range(30, 60, 3), x0=0.0, y=0.1)}
    tracks = link(sampled(found, 60, 3), detector="c")
    timeline = Timeline(tracks, 0.2)
    for i in range(60):
        t = i / FPS
        assert timeline.at(t) == boxes_at(tracks, t, 0.2)


def test_streamed_boxes_match_the_finished_tracks() -> None:
    """Boxes asked for as soon as `ready` allows equal those of the finished tracks."""
    import random

    rng = random.Random(7)
    faces = [
        moving(range(0, 120, 3), x0=0.05 * k, vx=0.004 * (k - 2), y=0.1 + 0.15 * k)
        for k in range(5)
    ]
    sampled_frames = range(0, 120, 3)
    pushed = []
    for i in sampled_frames:
        found = [f for face in faces for f in face[i] if rng.random() > 0.3]  # flickering detector
        pushed.append((i / FPS, found))
    linker = Linker()
    streamed: dict[int, list] = {}
    frames = list(range(120))
    waiting = list(frames)
    for t, found in pushed:
        linker.push(t, found)
        while waiting and linker.ready(waiting[0] / FPS):
            i = waiting.pop(0)
            streamed[i] = sorted(linker.boxes_at(i / FPS))
    for i in waiting:
        streamed[i] = sorted(linker.boxes_at(i / FPS))
    tracks = [track for _, track in linker.finish(detector="c", end_t=119 / FPS)]
    for i in frames:
        expected = sorted((b, t.label) for t in tracks if (b := t.cover_at(i / FPS)) is not None)
        assert [label for _, label in streamed[i]] == [label for _, label in expected], i
        for (got, _), (want, _) in zip(streamed[i], expected, strict=True):
            assert got == pytest.approx(want, abs=1e-9), i


def test_a_face_entering_at_the_edge_is_covered_before_its_first_detection() -> None:
    # Seen from frame 30 on, its box touching the left edge, moving right.
    found = {
        i: [Found((0.0, 0.4, 0.02 + 0.01 * (i - 30), 0.5), 0.9, "face")] for i in range(30, 60, 3)
    }
    edge_only = TrackingSettings(lead_s=0.0)
    track = link(sampled(found, 60, 3), detector="c", end_t=59 / FPS, settings=edge_only)[0]
    assert track.start_t == pytest.approx(30 / FPS - 0.5)
    early = track.box_at(29 / FPS)
    assert early is not None and early[0] < 0.0  # moved back out across the edge
    # A face first seen mid-picture gets no such lead when lead_s is 0...
    inside = link(sampled(moving(range(30, 60, 3)), 60, 3), detector="c", settings=edge_only)[0]
    assert inside.start_t > 27 / FPS


def test_every_track_starts_lead_s_before_its_first_detection() -> None:
    """A face found at frame N was there at N-k, too small or blurred to be found."""
    track = link(sampled(moving(range(30, 60, 3)), 60, 3), detector="c")[0]
    assert track.start_t == pytest.approx(30 / FPS - 0.6)
    # Moved back along its velocity (0.01 per frame to the right).
    early = track.box_at(30 / FPS - 0.4)
    assert early == pytest.approx(box_at(0.1 + 0.01 * (30 - 0.4 * FPS), 0.4), abs=1e-6)
    # The lead never reaches further back than a streaming render holds frames.
    short = TrackingSettings(coast_s=0.5, lead_s=2.0)
    capped = link(sampled(moving(range(30, 60, 3)), 60, 3), detector="c", settings=short)[0]
    assert capped.start_t >= 30 / FPS - 0.5


def test_velocity_is_measured_over_a_window_so_jitter_does_not_throw_the_box() -> None:
    # Moving right at 0.01 per frame, with the last sample jittered up by 0.05.
    samples = [Sample(i / FPS, box_at(0.1 + 0.01 * i, 0.4)) for i in range(0, 13, 3)]
    x1, y1, x2, y2 = samples[-1].box
    samples[-1] = Sample(samples[-1].t, (x1, y1 - 0.05, x2, y2 - 0.05))
    track = Track(1, "face", "c", samples, 0.0, 30 / FPS)
    later = track.box_at(30 / FPS)
    assert later is not None
    # Pair-wise velocity would carry the jitter on (0.05 per 3 frames: 0.3 further off
    # 18 frames later); over the 0.35 s window (6 frames here) half of that.
    assert later[1] == pytest.approx(y1 - 0.05 - 0.15)


def test_weak_detections_count_only_when_confirmed() -> None:
    settings = TrackingSettings(min_score=0.2)
    weak_once = {i: [] for i in range(0, 30, 3)}
    weak_once[12] = [Found(box_at(0.5, 0.5), 0.12, "face")]  # a one-off weak blip
    assert link(sampled(weak_once, 30, 3), detector="c", settings=settings) == []
    weak_twice = dict(weak_once)
    weak_twice[15] = [Found(box_at(0.5, 0.5), 0.14, "face")]  # found again 0.12 s later
    [track] = link(sampled(weak_twice, 30, 3), detector="c", settings=settings)
    assert track.score == pytest.approx(0.14)
    weak_then_strong = dict(weak_once)
    weak_then_strong[18] = [Found(box_at(0.5, 0.5), 0.6, "face")]
    assert len(link(sampled(weak_then_strong, 30, 3), detector="c", settings=settings)) == 1
    # A weak start is not confirmed by a strong detection long after: that starts anew.
    late = dict(weak_once)
    late[27] = [Found(box_at(0.5, 0.5), 0.6, "face")]
    [track] = link(sampled(late, 30, 3), detector="c", settings=settings)
    assert track.samples[0].t == pytest.approx(27 / FPS)


def test_streamed_boxes_match_finished_tracks_with_weak_detections() -> None:
    import random

    rng = random.Random(11)
    settings = TrackingSettings(min_score=0.2)
    linker = Linker(settings)
    frames, streamed = list(range(120)), {}
    waiting = list(frames)
    for i in range(0, 120, 3):
        found = [
            Found(
                box_at(0.05 + 0.15 * k + 0.002 * i, 0.2 + 0.1 * k), rng.uniform(0.1, 0.35), "face"
            )
            for k in range(5)
            if rng.random() > 0.5
        ]
        linker.push(i / FPS, found)
        while waiting and linker.ready(waiting[0] / FPS):
            j = waiting.pop(0)
            streamed[j] = sorted(linker.boxes_at(j / FPS))
    for j in waiting:
        streamed[j] = sorted(linker.boxes_at(j / FPS))
    tracks = [track for _, track in linker.finish(detector="c", end_t=119 / FPS)]
    for i in frames:
        expected = sorted((b, t.label) for t in tracks if (b := t.cover_at(i / FPS)) is not None)
        assert len(streamed[i]) == len(expected), i
        for (got, _), (want, _) in zip(streamed[i], expected, strict=True):
            assert got == pytest.approx(want, abs=1e-9), i
