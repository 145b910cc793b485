"""The named redaction settings (coverage, fast) and the leak check in the render's own
pass: same findings as checking the written file, settings refused when unknown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from overt.cli.redact import redact
from overt.conf import ConfigError, load_settings
from overt.redaction.engine.leakcheck import check_copy
from overt.redaction.engine.render import LeakPass, render_video
from overt.redaction.engine.settings import (
    COVERAGE,
    FAST,
    RedactionSettings,
    UnknownSetting,
    build,
    named,
)
from overt.redaction.evalset import make_eval_clip


def _findings(check) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(f.number, f.start_s, f.end_s, f.frames, round(f.score, 4)) for f in check.findings]


def test_the_render_pass_leak_check_finds_what_checking_the_file_finds(
    big_faces: Path, tmp_path: Path
) -> None:
    out = tmp_path / "unmasked.mp4"
    result = render_video(big_faces, out, [], leak_check=LeakPass(stride=2))
    inline = result.leak_check
    assert inline is not None and inline.findings  # nothing masked: the faces leak
    assert inline.frames == result.frames == 50 and inline.checked == 25
    assert inline.findings[0].thumbnail is not None
    from_file = check_copy(out, stride=2)
    assert _findings(inline) == _findings(from_file)
    assert render_video(big_faces, tmp_path / "plain.mp4", []).leak_check is None


def test_the_render_pass_leak_check_reads_a_turned_and_scaled_copy(tmp_path: Path) -> None:
    clip = tmp_path / "portrait.mp4"
    make_eval_clip(
        clip, seed=5, faces=2, width=360, height=640, duration_s=1.0, sizes=(80.0, 110.0),
        rotation=90,
    )  # fmt: skip
    out = tmp_path / "small.mp4"
    result = render_video(clip, out, [], max_height=480, leak_check=LeakPass(stride=2))
    assert result.leak_check is not None and result.height < 640
    assert _findings(result.leak_check) == _findings(check_copy(out, stride=2))


def test_named_settings_have_bounds_and_refuse_unknown_keys() -> None:
    assert named("coverage") == COVERAGE and named("fast") == FAST
    assert FAST.detect_width < COVERAGE.detect_width and FAST.tiles is None
    assert named("fast", stride=4).stride == 4
    for bad in ({"strides": 3}, {"stride": 0}, {"preset": "warp"}, {"leak_stride": 11}):
        with pytest.raises(UnknownSetting):
            build({**COVERAGE.model_dump(), **bad})
    with pytest.raises(UnknownSetting, match="unknown redaction setting 'quick'"):
        named("quick")
    for name, field in RedactionSettings.model_fields.items():
        assert field.title and field.description, name


def test_the_instance_setting_is_a_checked_configuration_key() -> None:
    assert load_settings({"OVERT_HOME": "/nonexistent"}).redaction_setting == "coverage"
    chosen = load_settings({"OVERT_HOME": "/nonexistent", "OVERT_REDACTION_SETTING": "fast"})
    assert chosen.redaction_setting == "fast"
    with pytest.raises(ConfigError, match="OVERT_REDACTION_SETTING"):
        load_settings({"OVERT_HOME": "/nonexistent", "OVERT_REDACTION_SETTING": "quick"})


def test_redact_takes_a_named_setting_and_single_knobs_over_it(
    big_faces: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fast.mp4"
    done = CliRunner().invoke(
        redact, [str(big_faces), "-o", str(out), "--setting", "fast", "--stride", "2", "--json"]
    )
    assert done.exit_code == 0, done.output
    settings = json.loads(out.with_name("fast.detections.json").read_text())["settings"]
    assert settings["setting"] == "fast" and settings["stride"] == 2
    assert settings["detect_width"] == FAST.detect_width and settings["tiles"] is None
    refused = CliRunner().invoke(redact, [str(big_faces), "-o", str(out), "--setting", "quick"])
    assert refused.exit_code == 2


def test_the_instance_key_offers_exactly_the_named_settings() -> None:
    """overt.conf sits below the redaction app and cannot import its names; this keeps its
    `redaction_setting` choices and the named settings one list."""
    from typing import get_args

    from overt.conf import OvertSettings as Settings
    from overt.redaction.engine.settings import NAMED, NAMES

    assert get_args(Settings.model_fields["redaction_setting"].annotation) == NAMES
    assert tuple(NAMED) == NAMES
