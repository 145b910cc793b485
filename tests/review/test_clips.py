"""Frame-accurate clips and PNG stills: the right pictures at the right times, copied
bytes where possible, re-encoded only at the cuts; stored as derivatives with their
provenance and a custody entry; the original untouched."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from overt.custody.models import CustodyEntry
from overt.demo.footage import render_clip
from overt.evidence.models import Derivative, Original
from overt.evidence.store import get_store
from overt.ingest.services import ingest_file
from overt.jobs.models import Job
from overt.jobs.worker import run_worker
from overt.media import cutting
from overt.media.derivatives import start_seconds
from overt.media.pictures import ClipError, make_still
from overt.review import derive
from support_derivatives import assert_every_derivative_has_its_entry

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def _reencode_with_b_frames(src: Path, dst: Path) -> None:
    """A camera-like file whose encoder reorders pictures (B-frames) in 1 s GOPs."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        vin, ain = inp.streams.video[0], inp.streams.audio[0]
        vout = out.add_stream(
            "libx264",
            rate=25,
            options={
                "preset": "fast",
                "bf": "3",
                "g": "25",
                "keyint_min": "25",
                "sc_threshold": "0",
            },
        )
        vout.width, vout.height, vout.pix_fmt = vin.width, vin.height, "yuv420p"
        aout = out.add_stream_from_template(ain)
        for packet in inp.demux(vin, ain):
            if packet.stream is ain:
                if packet.size:
                    packet.stream = aout
                    out.mux(packet)
                continue
            for frame in packet.decode():
                frame.pict_type = 0
                out.mux(vout.encode(frame))
        out.mux(vout.encode(None))


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    plain = folder / "plain.mp4"
    render_clip(
        plain,
        seed=41,
        start_utc=T0,
        duration_s=6,
        device_serial="CAM-1",
        officer_number="MP100",
        width=320,
        height=180,
    )
    reordered = folder / "b-frames.mp4"
    _reencode_with_b_frames(plain, reordered)
    rotated = folder / "rotated.mp4"
    render_clip(
        rotated,
        seed=42,
        start_utc=T0,
        duration_s=3,
        device_serial="CAM-1",
        officer_number="MP100",
        width=320,
        height=180,
        rotation=90,
        with_audio=False,
    )
    return {"plain": plain, "b-frames": reordered, "rotated": rotated}


def pictures(path: Path) -> list[tuple[float, np.ndarray]]:
    """(time on the file's timeline, RGB pixels) of every picture, in display order."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        zero = start_seconds(video, audio)
        return [
            (round(float(f.time) - zero, 4), f.to_ndarray(format="rgb24"))
            for f in container.decode(video)
        ]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


@pytest.mark.parametrize("source", ["plain", "b-frames"])
@pytest.mark.parametrize(
    ("in_s", "out_s", "method"),
    [
        (0.52, 3.08, "smart-cut"),  # re-encoded head and (with B-frames) tail, copy between
        (1.0, 2.0, "smart-cut"),  # both cuts on IDRs: everything copied
        (2.2, 4.76, "smart-cut"),
        (0.12, 0.6, "re-encode"),  # no IDR inside: re-encoded whole
        (3.4, 3.4, "re-encode"),  # one picture
    ],
)
def test_clip_holds_exactly_the_pictures_from_in_to_out(
    sources, tmp_path: Path, source: str, in_s: float, out_s: float, method: str
) -> None:
    src = sources[source]
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    result = cutting.make_clip(src, tmp_path / "clip.mp4", in_s, out_s)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # the source is only read

    every = pictures(src)
    expected = [(t, px) for t, px in every if in_s - 0.001 <= t <= out_s + 0.001]
    got = pictures(tmp_path / "clip.mp4")
    assert result.method == method
    assert result.frames == len(expected) == len(got)
    assert result.in_s == pytest.approx(expected[0][0]) and result.out_s == pytest.approx(
        expected[-1][0]
    )
    times = [t for t, _ in every]
    assert result.first_frame == times.index(expected[0][0])
    assert result.last_frame == times.index(expected[-1][0])
    # Each picture keeps its place: clip time = source time - in-point, to the tick.
    assert [round(t, 3) for t, _ in got] == [round(t - expected[0][0], 3) for t, _ in expected]
    exact = [psnr(g, e) == float("inf") for (_, g), (_, e) in zip(got, expected, strict=True)]
    assert sum(exact) == result.copied_frames  # copied pictures decode bit for bit
    assert min(psnr(g, e) for (_, g), (_, e) in zip(got, expected, strict=True)) > 38
    assert result.copied_frames + result.reencoded_frames == result.frames
    if (in_s, out_s) == (1.0, 2.0):
        assert result.reencoded_frames == 0
    if method == "smart-cut" and (in_s, out_s) != (1.0, 2.0):
        assert 0 < result.reencoded_frames < result.frames
    assert result.audio == "copy"
    with av.open(str(tmp_path / "clip.mp4")) as container:
        audio = container.streams.audio[0]
        decoded = sum(f.samples for f in container.decode(audio)) / audio.sample_rate
    assert decoded == pytest.approx(result.duration_s, abs=0.05)


def test_rotated_source_keeps_its_rotation_and_stills_are_upright(sources, tmp_path: Path) -> None:
    result = cutting.make_clip(sources["rotated"], tmp_path / "clip.mp4", 0.5, 2.2)
    assert result.audio == "none" and (result.width, result.height) == (180, 320)
    from overt.media.probe import probe

    assert probe(tmp_path / "clip.mp4").rotation == 90
    still = make_still(sources["rotated"], tmp_path / "still.png", 1.2)
    assert (still.width, still.height) == (180, 320)


@pytest.mark.parametrize("at", [0.0, 1.23, 2.36, 5.96])
def test_still_is_the_picture_shown_at_that_moment(sources, tmp_path: Path, at: float) -> None:
    every = pictures(sources["b-frames"])
    shown = max((p for p in every if p[0] <= at + 0.001), key=lambda p: p[0])
    result = make_still(sources["b-frames"], tmp_path / "still.png", at)
    assert result.at_s == pytest.approx(shown[0])
    assert result.frame == [t for t, _ in every].index(shown[0])
    image = np.asarray(Image.open(tmp_path / "still.png").convert("RGB"))
    assert image.shape == shown[1].shape and np.array_equal(image, shown[1])


def test_bad_ranges_are_refused(sources, tmp_path: Path) -> None:
    with pytest.raises(ClipError, match="before the in-point"):
        cutting.make_clip(sources["plain"], tmp_path / "c.mp4", 3.0, 1.0)
    with pytest.raises(ClipError, match="after the end"):
        cutting.make_clip(sources["plain"], tmp_path / "c.mp4", 60.0, 61.0)


@pytest.mark.django_db(transaction=True)
def test_clip_and_still_jobs_store_derivatives_with_provenance_and_custody(people, sources) -> None:
    ingested = ingest_file(sources["plain"], officer_number="MP100", device_serial="CAM-1")
    original = Original.objects.get(pk=ingested.id)
    recording = original.recording
    requested = derive.request_clip(
        recording, original, 0.52, 3.08, username="reviewer", label="The challenge"
    )
    assert requested.created
    again = derive.request_clip(recording, original, 0.52, 3.08, username="someone")
    assert again.job.pk == requested.job.pk and not again.created  # one job per clip
    still_job = derive.request_still(recording, original, 1.5, username="reviewer").job
    run_worker(burst=True)

    job = Job.objects.get(pk=requested.job.pk)
    assert job.status == "succeeded", job.last_error
    clip = derive.made_by(job)
    assert clip is not None and clip.kind == "clip" and clip.content_type == "video/mp4"
    assert clip.generator == cutting.GENERATOR and "pyav=" in clip.generator_version
    assert clip.facts["source_sha256"] == original.sha256
    assert clip.facts["method"] == "smart-cut" and clip.facts["frames"] == 65
    assert clip.facts["label"] == "The challenge" and clip.facts["requested_by"] == "reviewer"
    still = derive.made_by(Job.objects.get(pk=still_job.pk))
    assert still is not None and still.kind == "still" and still.content_type == "image/png"
    assert still.facts["at_s"] == pytest.approx(1.48)

    store = get_store()
    assert (
        hashlib.sha256(b"".join(store.read_range(original.sha256))).hexdigest() == original.sha256
    )
    assert hashlib.sha256(b"".join(store.read_range(clip.sha256))).hexdigest() == clip.sha256
    entries = [json.loads(e.entry) for e in CustodyEntry.objects.filter(action="derivative-create")]
    ours = [e for e in entries if e["details"]["kind"] in ("clip", "still")]
    assert len(ours) == 2
    clip_entry = next(e for e in ours if e["details"]["kind"] == "clip")
    assert clip_entry["actor"] == {"kind": "user", "id": "reviewer"}
    assert clip_entry["object"]["sha256"] == original.sha256
    assert clip_entry["object"]["ids"]["derivative"] == clip.pk
    assert clip_entry["details"]["sha256"] == clip.sha256
    assert clip_entry["details"]["in_s"] == pytest.approx(0.52)
    assert clip_entry["details"]["out_s"] == pytest.approx(3.08)
    # Several clips of one original may exist side by side.
    derive.request_clip(recording, original, 1.0, 2.0, username="reviewer")
    run_worker(burst=True)
    assert Derivative.objects.filter(original=original, kind="clip").count() == 2
    # Every derivative the flow made (media's proxy, poster, sprite and waveform, the
    # transcripts job's transcript, which runs for every playable original, the clips and
    # the still) has its own custody entry.
    assert assert_every_derivative_has_its_entry() == 8


@pytest.mark.django_db
def test_requests_are_checked_before_queueing(people) -> None:
    from overt.evidence.models import Recording

    officer, device = people
    recording = Recording.objects.create(officer=officer, device=device, trigger_on_at=T0)
    other = Recording.objects.create(officer=officer, device=device, trigger_on_at=T0)
    original = Original.objects.create(
        sha256="1" * 64,
        size=1,
        recording=recording,
        filename="x.mp4",
        source="cli",
        duration_s=10,
        playable=True,
    )
    with pytest.raises(derive.DeriveError, match="not part of"):
        derive.request_clip(other, original, 0, 1, username="u")
    with pytest.raises(derive.DeriveError, match="before the in-point"):
        derive.request_clip(recording, original, 5, 1, username="u")
    with pytest.raises(derive.DeriveError, match="after the end"):
        derive.request_clip(recording, original, 11, 12, username="u")
    with pytest.raises(derive.DeriveError, match="within the clip"):
        derive.request_still(recording, original, 30, username="u")
    assert not Job.objects.exists()
