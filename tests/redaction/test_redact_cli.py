"""`overt redact` as a user runs it: a subprocess, with no instance and no Django setup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from overt.media.probe import probe
from overt.redaction.evalset import make_eval_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("redact-cli") / "clip.mp4"
    make_eval_clip(
        path, seed=31, faces=2, width=640, height=360, duration_s=1.6, sizes=(60.0, 100.0)
    )
    return path


def redact(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real command with an OVERT_HOME that must stay absent, and Django unusable."""
    home = tmp_path / "no-instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVERT_", "DJANGO_"))}
    env.update({"OVERT_HOME": str(home), "DJANGO_SETTINGS_MODULE": "no.such.settings"})
    result = subprocess.run(
        [sys.executable, "-m", "overt", "redact", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert not home.exists(), "overt redact must not create an instance"
    return result


def test_redact_json_without_an_instance(clip, tmp_path) -> None:
    out = tmp_path / "out.mp4"
    result = redact(tmp_path, str(clip), "-o", str(out), "--json", "--mute", "0.2-0.6")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["output"] == str(out) and data["frames"] == 40
    assert data["video_fps"] == 25.0 and data["fps"] > 0
    assert data["provider"] in ("CPUExecutionProvider", "CUDAExecutionProvider")
    assert data["has_audio"] and data["audio_ranges"] == 1
    assert len(data["tracks"]) >= 2 and {t["label"] for t in data["tracks"]} == {"face"}
    assert data["masked_frames"] > 30
    detections = Path(data["detections"])
    assert detections == tmp_path / "out.detections.json"
    document = json.loads(detections.read_text())
    assert document["frames"] == 40 and document["stride"] == 3
    assert [t["id"] for t in document["tracks"]] == [t["id"] for t in data["tracks"]]
    assert all(t["boxes"] for t in document["tracks"])
    info = probe(out)
    assert info.playable and info.video_codec == "h264" and (info.width, info.height) == (640, 360)


def test_an_edited_detections_file_renders_without_detecting(clip, tmp_path) -> None:
    out = tmp_path / "first.mp4"
    first = json.loads(redact(tmp_path, str(clip), "-o", str(out), "--json").stdout)
    document = json.loads(Path(first["detections"]).read_text())
    for track in document["tracks"]:
        track["included"] = False  # e.g. an officer's own face, left unblurred
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    again = redact(
        tmp_path,
        str(clip),
        "-o",
        str(tmp_path / "second.mp4"),
        "--json",
        "--detections",
        str(edited),
    )
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["tracks"] == [] and data["masked_frames"] == 0 and data["detect_seconds"] == 0.0


def test_manual_boxes_only(clip, tmp_path) -> None:
    out = tmp_path / "boxes.mp4"
    result = redact(
        tmp_path,
        str(clip),
        "-o",
        str(out),
        "--json",
        "--no-faces",
        "--mode",
        "solid",
        "--box",
        "0.4-0.8:0.1,0.1,0.3,0.3",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [t["label"] for t in data["tracks"]] == ["manual"]
    assert data["masked_frames"] == 11  # frames at 0.40, 0.44, ..., 0.80 s


def test_plain_output_is_one_summary(clip, tmp_path) -> None:
    result = redact(tmp_path, str(clip), "-o", str(tmp_path / "plain.mp4"))
    assert result.returncode == 0, result.stderr
    assert "40 frames" in result.stdout and "detections:" in result.stdout


def test_an_unplayable_file_is_refused_with_exit_status_3(clips, tmp_path) -> None:
    out = tmp_path / "never.mp4"
    result = redact(tmp_path, str(clips["corrupt"]), "-o", str(out))
    assert result.returncode == 3
    assert "cannot redact an unplayable file" in result.stderr and "moov" in result.stderr
    assert not out.exists()
    missing = redact(tmp_path, str(tmp_path / "nope.mp4"), "-o", str(out))
    assert missing.returncode == 3 and "no such file" in missing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mute", "5-2"], "end after it starts"),
        (["--box", "1-2:0.5,0.5,0.1,0.1"], "top-left first"),
        (["--box", "oops"], "START-END:X1,Y1,X2,Y2"),
    ],
)
def test_bad_options_are_usage_errors(clip, tmp_path, args, message) -> None:
    result = redact(tmp_path, str(clip), "-o", str(tmp_path / "x.mp4"), *args)
    assert result.returncode == 2 and message in result.stderr


def test_the_source_is_never_the_output(clip, tmp_path) -> None:
    result = redact(tmp_path, str(clip), "-o", str(clip))
    assert result.returncode == 2 and "never overwritten" in result.stderr
