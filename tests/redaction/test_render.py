"""Render: masks land on the faces, audio stays in sync and silent where muted,
timestamps and rotation survive, awkward sources work, failures leave nothing."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import av
import numpy as np
import pytest

from overt.media.probe import probe
from overt.redaction.engine.adhoc import Options, redact_file
from overt.redaction.engine.audio_redaction import AudioRange
from overt.redaction.engine.detection import detect_video
from overt.redaction.engine.detectors import CenterFaceDetector
from overt.redaction.engine.inputs import RedactionError
from overt.redaction.engine.render import render_video
from overt.redaction.engine.tracking import Sample, Track, manual_track
from overt.redaction.evalset import AUDIO_RATE, EvalClip, covered_fraction, make_eval_clip


@pytest.fixture(scope="module")
def detector() -> CenterFaceDetector:
    return CenterFaceDetector(device="cpu")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EvalClip]:
    folder = tmp_path_factory.mktemp("redaction-clips")
    small = {"width": 640, "height": 360, "duration_s": 2.0, "sizes": (60.0, 110.0)}
    return {
        "faces": make_eval_clip(folder / "faces.mp4", seed=11, faces=2, **small),
        "rotated": make_eval_clip(folder / "rotated.mp4", seed=12, faces=2, rotation=90, **small),
        "silent": make_eval_clip(
            folder / "silent.mp4", seed=13, faces=1, with_audio=False, **small
        ),
        "vfr": make_eval_clip(folder / "vfr.mp4", seed=14, faces=1, vfr=True, **small),
        "odd": make_eval_clip(
            folder / "odd.mp4",
            seed=15,
            faces=1,
            width=321,
            height=181,
            duration_s=1.0,
            sizes=(50.0, 70.0),
        ),
        "4k": make_eval_clip(
            folder / "4k.mp4",
            seed=16,
            faces=1,
            width=3840,
            height=2160,
            duration_s=0.4,
            sizes=(300.0, 400.0),
            crf=30,
        ),
    }


def decode(path: Path | str) -> list[av.VideoFrame]:
    with av.open(os.fspath(path)) as container:
        return list(container.decode(video=0))


def audio_samples(path: Path | str) -> tuple[np.ndarray, float]:
    """Mono samples on the same zero as the video, and the sample rate."""
    with av.open(os.fspath(path)) as container:
        stream = container.streams.audio[0]
        video = container.streams.video[0]
        zero = min(
            float(s.start_time * s.time_base) for s in (stream, video) if s.start_time is not None
        )
        chunks, first = [], None
        for frame in container.decode(stream):
            if first is None:
                first = float(frame.time)
            chunks.append(frame.to_ndarray().mean(axis=0))
        rate = stream.codec_context.sample_rate
    samples = np.concatenate(chunks)
    lead = round((first - zero) * rate)
    if lead > 0:
        samples = np.concatenate([np.zeros(lead, np.float32), samples])
    elif lead < 0:
        samples = samples[-lead:]
    return samples, rate


def upright_luma(frame: av.VideoFrame, rotation: int) -> np.ndarray:
    luma = frame.to_ndarray(format="gray")
    return np.rot90(luma, k=-(rotation // 90)) if rotation else luma


def dark_share(
    luma: np.ndarray, box: tuple[float, float, float, float], scale: float = 1.0
) -> float:
    x1, y1, x2, y2 = (round(v * scale) for v in box)
    region = luma[max(0, y1) : y2, max(0, x1) : x2]
    return float((region <= 24).mean()) if region.size else 1.0


def truth_tracks(clip: EvalClip) -> list[Track]:
    """Tracks straight from the ground truth (one sample per frame), normalised."""
    per_face: dict[int, list[Sample]] = {}
    for t, boxes in zip(clip.times, clip.truth, strict=True):
        for item in boxes:
            x1, y1, x2, y2 = item.box
            per_face.setdefault(item.face, []).append(
                Sample(t, (x1 / clip.width, y1 / clip.height, x2 / clip.width, y2 / clip.height))
            )
    return [Track(k + 1, "face", "truth", samples) for k, samples in sorted(per_face.items())]


def test_detected_faces_are_masked_in_the_output(made, detector, tmp_path) -> None:
    clip = made["faces"]
    result = detect_video(clip.path, [detector], stride=3)
    assert result.frames == clip.frames and result.sampled == (clip.frames + 2) // 3
    assert result.width == 640 and result.height == 360 and result.tracks
    assert set(result.thumbnails) <= {t.id for t in result.tracks} and result.thumbnails
    out = tmp_path / "out.mp4"
    rendered = render_video(clip.path, out, result.tracks, mode="solid")
    assert rendered.frames == clip.frames and rendered.masked_frames > 0
    frames = decode(out)
    assert len(frames) == clip.frames
    covered = total = 0
    for frame, truth in zip(frames, clip.truth, strict=True):
        luma = upright_luma(frame, 0)
        for item in truth:
            total += 1
            covered += dark_share(luma, item.box) >= 0.9
    assert total and covered / total >= 0.9, (covered, total)
    info = probe(out)
    assert info.video_codec == "h264" and info.audio_codec == "aac"


@pytest.mark.parametrize("mode", ["blur", "pixelate"])
def test_blur_and_pixelate_remove_the_detail_of_the_face(made, tmp_path, mode) -> None:
    clip = made["faces"]
    out = tmp_path / f"{mode}.mp4"
    render_video(clip.path, out, truth_tracks(clip), mode=mode, margin=0.1)
    before, after = decode(clip.path), decode(out)
    for index in (0, clip.frames // 2):
        for item in clip.truth[index]:
            x1, y1, x2, y2 = (round(v) for v in item.box)
            src = before[index].to_ndarray(format="gray")[y1:y2, x1:x2].astype(float)
            dst = after[index].to_ndarray(format="gray")[y1:y2, x1:x2].astype(float)
            # High-frequency detail (what identifies a face) is gone.
            detail = lambda a: np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean()  # noqa: E731
            # (pixelation keeps the block edges, so it is allowed a little more)
            limit = 0.35 if mode == "blur" else 0.5
            assert detail(dst) < limit * detail(src), (mode, detail(dst), detail(src))
    # Away from the faces, the picture is the source's (up to re-encoding).
    src = before[0].to_ndarray(format="gray").astype(float)
    dst = after[0].to_ndarray(format="gray").astype(float)
    mask = np.ones_like(src, bool)
    for item in clip.truth[0]:
        x1, y1, x2, y2 = (round(v) for v in item.box)
        w, h = x2 - x1, y2 - y1
        mask[max(0, y1 - h) : y2 + h, max(0, x1 - w) : x2 + w] = False
    assert np.abs(src - dst)[mask].mean() < 4.0


def test_timestamps_are_kept_and_audio_stays_in_sync(made, tmp_path) -> None:
    clip = made["faces"]
    out = tmp_path / "sync.mp4"
    render_video(clip.path, out, truth_tracks(clip))
    src_times = [round(float(f.time), 4) for f in decode(clip.path)]
    out_times = [round(float(f.time), 4) for f in decode(out)]
    assert [t - out_times[0] for t in out_times] == pytest.approx(
        [t - src_times[0] for t in src_times], abs=1e-3
    )
    # The source's clicks (every 0.5 s) are where they were, relative to the video.
    samples, rate = audio_samples(out)
    onsets = []
    for expected in (0.5, 1.0, 1.5):
        window = samples[round((expected - 0.05) * rate) : round((expected + 0.05) * rate)]
        onsets.append(expected - 0.05 + int(np.argmax(np.abs(window) > 0.6)) / rate)
    assert onsets == pytest.approx([0.5, 1.0, 1.5], abs=0.003)


def test_muted_ranges_are_silent_and_bleeps_are_a_tone(made, tmp_path) -> None:
    clip = made["faces"]
    out = tmp_path / "muted.mp4"
    ranges = [AudioRange(0.6, 0.9, "mute"), AudioRange(1.2, 1.45, "bleep")]
    rendered = render_video(clip.path, out, [], audio_ranges=ranges)
    assert rendered.audio_ranges == 2 and rendered.masked_frames == 0
    samples, rate = audio_samples(out)

    def rms(a: float, b: float) -> float:
        part = samples[round(a * rate) : round(b * rate)]
        return float(np.sqrt(np.mean(part**2)))

    assert rms(0.62, 0.88) < 1e-3  # silent inside (AAC edges spread a few ms)
    assert 0.15 < rms(0.1, 0.45) < 0.4  # the 440 Hz tone elsewhere
    bleep = samples[round(1.22 * rate) : round(1.43 * rate)]
    spectrum = np.abs(np.fft.rfft(bleep))
    peak_hz = np.argmax(spectrum) * rate / len(bleep)
    assert peak_hz == pytest.approx(1000, abs=10)
    assert 0.1 < rms(1.22, 1.43) < 0.3


def test_a_source_without_audio_renders_without_audio(made, tmp_path) -> None:
    clip = made["silent"]
    out = tmp_path / "silent.mp4"
    rendered = render_video(clip.path, out, truth_tracks(clip), audio_ranges=[AudioRange(0, 1)])
    assert not rendered.has_audio
    info = probe(out)
    assert info.playable and info.audio_codec is None


def test_rotation_is_kept_as_metadata_and_masks_land_upright(made, detector, tmp_path) -> None:
    clip = made["rotated"]
    source = probe(clip.path)
    assert source.rotation == 90 and (source.width, source.height) == (360, 640)
    result = detect_video(clip.path, [detector], stride=2)
    assert (result.width, result.height, result.rotation) == (640, 360, 90)
    for tracks, least in ((truth_tracks(clip), 0.98), (result.tracks, 0.75)):
        out = tmp_path / "rotated.mp4"
        render_video(clip.path, out, tracks, mode="solid")
        info = probe(out)
        assert info.rotation == 90 and (info.width, info.height) == (360, 640)
        covered = total = 0
        for frame, truth in zip(decode(out), clip.truth, strict=True):
            luma = upright_luma(frame, 90)
            assert luma.shape == (360, 640)
            for item in truth:
                total += 1
                covered += dark_share(luma, item.box) >= 0.9
        assert covered / total >= least, (covered, total)


def test_odd_dimensions_gain_one_edge_column_and_row(made, tmp_path) -> None:
    clip = made["odd"]
    assert (probe(clip.path).width, probe(clip.path).height) == (321, 181)
    out = tmp_path / "odd.mp4"
    rendered = render_video(clip.path, out, truth_tracks(clip), mode="solid")
    assert (rendered.width, rendered.height) == (322, 182)
    frames = decode(out)
    assert len(frames) == clip.frames and frames[0].format.name == "yuv420p"
    item = clip.truth[0][0]
    assert dark_share(frames[0].to_ndarray(format="gray"), item.box) >= 0.9


def test_variable_frame_rate_stays_variable(made, tmp_path) -> None:
    clip = made["vfr"]
    out = tmp_path / "vfr.mp4"
    render_video(clip.path, out, truth_tracks(clip))
    times = [float(f.time) for f in decode(out)]
    gaps = {round(b - a, 3) for a, b in itertools.pairwise(times)}
    assert gaps == {0.04, 0.08}
    assert [t - times[0] for t in times] == pytest.approx(clip.times, abs=1e-3)


def test_a_4k_source_is_detected_and_scaled_down_for_release(made, detector, tmp_path) -> None:
    clip = made["4k"]
    result = detect_video(clip.path, [detector], stride=1)
    assert (result.width, result.height) == (3840, 2160) and result.tracks
    out = tmp_path / "4k.mp4"
    rendered = render_video(clip.path, out, result.tracks, mode="solid", max_height=720)
    assert (rendered.width, rendered.height) == (1280, 720)
    frames = decode(out)
    assert len(frames) == clip.frames and (frames[0].width, frames[0].height) == (1280, 720)
    for frame, truth in zip(frames, clip.truth, strict=True):
        for item in truth:
            assert dark_share(frame.to_ndarray(format="gray"), item.box, scale=1 / 3) >= 0.9


def test_a_4k_source_scaled_down_in_one_pass_finishes_masked(made, tmp_path) -> None:
    """`overt redact 4k.mp4 --max-height 720 --leak-check` crashed (SIGSEGV) or hung for
    good: the detector's thread and the output's scaling converted the same decoded
    frame through the one converter PyAV keeps on it (engine.frames)."""
    clip = made["4k"]
    out = tmp_path / "out.mp4"
    outcome = redact_file(clip.path, out, Options(mode="solid", max_height=720, leak_check=True))
    summary = outcome.to_json()
    assert summary["frames"] == clip.frames and summary["decode_errors"] == 0
    assert outcome.leak_check is not None and outcome.leak_check.findings == []
    frames = [f.to_ndarray(format="gray") for f in decode(out)]
    assert len(frames) == clip.frames and frames[0].shape == (720, 1280)
    for luma, truth in zip(frames, clip.truth, strict=True):
        for item in truth:
            assert dark_share(luma, item.box, scale=1 / 3) >= 0.9


def test_an_unplayable_file_is_a_clear_error_and_leaves_nothing(clips, tmp_path, detector) -> None:
    out = tmp_path / "never.mp4"
    for name in ("corrupt", "empty", "noise", "truncated"):
        with pytest.raises(RedactionError, match="cannot redact an unplayable file"):
            render_video(clips[name], out, [])
        with pytest.raises(RedactionError, match="unplayable"):
            detect_video(clips[name], [detector])
    with pytest.raises(RedactionError, match="no such file"):
        render_video(tmp_path / "missing.mp4", out, [])
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_render_leaves_nothing_and_can_run_again(made, tmp_path) -> None:
    clip = made["faces"]
    out = tmp_path / "out.mp4"

    class Stop(Exception):
        pass

    def stop_halfway(fraction: float) -> None:
        if fraction >= 0.5:
            raise Stop

    with pytest.raises(Stop):
        render_video(clip.path, out, truth_tracks(clip), progress=stop_halfway)
    assert list(tmp_path.iterdir()) == []
    seen: list[float] = []
    rendered = render_video(clip.path, out, truth_tracks(clip), progress=seen.append)
    assert out.exists() and rendered.frames == clip.frames
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_manual_tracks_are_masked_over_their_span(made, tmp_path) -> None:
    clip = made["silent"]
    box = (0.05, 0.05, 0.25, 0.3)
    track = manual_track(1, [Sample(0.5, box), Sample(1.0, box)])
    out = tmp_path / "manual.mp4"
    render_video(clip.path, out, [track], mode="solid", margin=0.0)
    for frame, t in zip(decode(out), clip.times, strict=True):
        share = dark_share(
            frame.to_ndarray(format="gray"), (0.06 * 640, 0.06 * 360, 0.24 * 640, 0.29 * 360)
        )
        assert (share > 0.95) == (0.5 <= t <= 1.0), t


def test_covered_fraction_scoring() -> None:
    assert covered_fraction((0, 0, 10, 10), [(0, 0, 5, 10)]) == 0.5
    assert covered_fraction((0, 0, 10, 10), [(0, 0, 5, 10), (5, 0, 10, 10)]) == 1.0
    assert covered_fraction((0, 0, 10, 10), []) == 0.0


def test_audio_rate_is_the_generators(made) -> None:
    with av.open(made["faces"].path) as container:
        assert container.streams.audio[0].codec_context.sample_rate == AUDIO_RATE


@pytest.mark.parametrize("stride", [1, 3, 4])
def test_one_pass_redaction_equals_detect_then_render(made, detector, tmp_path, stride) -> None:
    """The ad-hoc single pass (detection beside the encoder, frames released once their
    boxes are final) gives the same tracks and the same pictures as the two passes."""
    from overt.redaction.engine.render import redact_video

    clip = made["faces"]
    two = tmp_path / "two.mp4"
    detected = detect_video(clip.path, [detector], stride=stride)
    render_video(clip.path, two, detected.tracks, mode="solid")
    one = tmp_path / "one.mp4"
    streamed, rendered = redact_video(clip.path, one, [detector], stride=stride, mode="solid")
    assert [(t.id, t.label, t.start_t, t.end_t, t.samples) for t in streamed.tracks] == [
        (t.id, t.label, t.start_t, t.end_t, t.samples) for t in detected.tracks
    ]
    assert streamed.frames == detected.frames and streamed.sampled == detected.sampled
    assert set(streamed.thumbnails) == set(detected.thumbnails)
    assert rendered.frames == clip.frames
    for a, b in zip(decode(one), decode(two), strict=True):
        assert np.array_equal(a.to_ndarray(format="gray"), b.to_ndarray(format="gray"))
