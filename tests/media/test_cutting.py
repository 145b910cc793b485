"""The clip cutter's audio re-encode path, through the one shared AAC encoder
(overt.media.audio): a source whose sound cannot go into MP4 as it is (PCM in a MOV)
gets AAC that lasts as long as the clip and keeps its sounds on the pictures' clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest

from overt.demo.footage import render_clip
from overt.media import cutting
from overt.media.probe import probe

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
EVENT_AT_S = 2.5  # a sharp burst of sound, this far into the source


def _with_pcm_audio(src: Path, dst: Path) -> None:
    """The same pictures (packets copied) with the sound as 16-bit PCM, in a MOV."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mov") as out:
        vin, ain = inp.streams.video[0], inp.streams.audio[0]
        vout = out.add_stream_from_template(vin)
        aout = out.add_stream("pcm_s16le", rate=ain.codec_context.sample_rate, layout="mono")
        for packet in inp.demux(vin, ain):
            if packet.stream is vin:
                if packet.size:
                    packet.stream = vout
                    out.mux(packet)
                continue
            for frame in packet.decode():
                frame.pts = None  # the PCM encoder numbers samples itself
                out.mux(aout.encode(frame))
        out.mux(aout.encode(None))


@pytest.fixture(scope="module")
def pcm_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pcm")
    plain = folder / "plain.mp4"
    render_clip(
        plain,
        seed=43,
        start_utc=T0,
        duration_s=5,
        device_serial="CAM-1",
        officer_number="MP100",
        width=320,
        height=180,
        audio_events=[EVENT_AT_S],
    )
    source = folder / "pcm.mov"
    _with_pcm_audio(plain, source)
    return source


def _onset_s(path: Path) -> tuple[float, float]:
    """(time of the first loud sample, seconds of sound) as a player decodes the file."""
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        onset, total = None, 0
        for frame in container.decode(audio):
            samples = np.abs(frame.to_ndarray()).max(axis=0)
            loud = np.flatnonzero(samples > 0.2)
            if onset is None and len(loud):
                onset = float(frame.time or 0.0) + loud[0] / frame.sample_rate
            total += frame.samples
        assert onset is not None, "the burst is missing from the clip"
        return onset, total / audio.sample_rate


@pytest.mark.parametrize(("in_s", "out_s"), [(0.52, 4.04), (1.0, 3.0), (2.2, 2.9)])
def test_pcm_sound_is_re_encoded_to_aac_on_the_pictures_clock(
    pcm_source: Path, tmp_path: Path, in_s: float, out_s: float
) -> None:
    assert probe(pcm_source).audio_codec == "pcm_s16le"
    clip = tmp_path / "clip.mp4"
    result = cutting.make_clip(pcm_source, clip, in_s, out_s)
    assert result.audio == "re-encode"
    assert probe(clip).audio_codec == "aac"
    onset, sound_s = _onset_s(clip)
    # The burst sits where it was relative to the first picture (within 2 ms) ...
    assert onset == pytest.approx(EVENT_AT_S - result.in_s, abs=0.002)
    # ... and the sound lasts as long as the pictures (within one AAC frame).
    assert sound_s == pytest.approx(result.duration_s, abs=0.03)
