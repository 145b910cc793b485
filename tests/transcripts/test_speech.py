"""Speech to text on real files: the `overt transcribe` contract and each bad input's
clear status (no sound, undecodable sound, silence, another language)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from overt.cli.transcribe import EXIT_BAD_INPUT, transcribe
from overt.demo.footage import render_clip, write_corrupt_clip
from overt.transcripts.speech import configured_engine, transcribe_file, transcribe_samples
from support_cli import run_overt
from transcripts.support import GERMAN, decode, voice, write_sound

CONTRACT_KEYS = ["language", "duration", "text", "words"]
WORD_KEYS = ["word", "start", "end", "probability"]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(transcribe, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_json_is_exactly_the_contract_and_the_words_are_timed(tmp_path: Path) -> None:
    code, out, _ = _run(str(voice("search-1")), "--json", "--vtt", str(tmp_path / "c.vtt"))
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == CONTRACT_KEYS
    assert doc["language"] == "en"
    assert 5.5 < doc["duration"] < 6.5
    assert "Victoria Street" in doc["text"]
    assert all(list(w) == WORD_KEYS for w in doc["words"])
    starts = [w["start"] for w in doc["words"]]
    assert starts == sorted(starts)
    assert all(0 <= w["start"] <= w["end"] <= doc["duration"] for w in doc["words"])
    assert all(0 <= w["probability"] <= 1 for w in doc["words"])
    searching = next(w for w in doc["words"] if w["word"].lower().startswith("searching"))
    assert 2.0 < searching["start"] < 4.5  # said about half-way through the 6 s line
    vtt = (tmp_path / "c.vtt").read_text("utf-8")
    assert vtt.startswith("WEBVTT\n")
    assert "Victoria" in vtt and " --> " in vtt


def test_the_real_command_prints_the_text() -> None:
    result = run_overt(Path("."), "transcribe", str(voice("armed-1")))
    assert result.returncode == 0, result.stderr
    assert "drop the weapon" in result.stdout.lower()


def test_speech_offsets_hold_inside_a_longer_file(tmp_path: Path) -> None:
    """A line 40 s into a file is timed at 40 s: the offsets survive VAD and windows."""
    line = decode(voice("armed-1"))
    samples = np.zeros(16_000 * 60, dtype=np.float32)
    samples[16_000 * 40 : 16_000 * 40 + len(line)] += line
    result = transcribe_file(configured_engine(), write_sound(tmp_path / "s.mp4", samples))
    assert result.status == "ok"
    weapon = next(w for w in result.words if w.word.lower().startswith("weapon"))
    assert 40.5 < weapon.start < 43.5


def test_a_file_with_no_sound_track_says_so(tmp_path: Path) -> None:
    clip = render_clip(
        tmp_path / "mute.mp4",
        seed=1,
        start_utc=datetime(2026, 1, 1, tzinfo=UTC),
        duration_s=1,
        device_serial="X",
        officer_number="1",
        width=64,
        height=48,
        with_audio=False,
    )
    code, _, err = _run(clip.path)
    assert code == EXIT_BAD_INPUT
    assert "no sound track" in err


@pytest.mark.parametrize("kind", ["truncated-camera-file", "random-bytes"])
def test_undecodable_sound_says_so(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "bad.mp4"
    if kind == "random-bytes":
        path.write_bytes(np.random.default_rng(3).bytes(50_000))
    else:
        write_corrupt_clip(path, seed=5)
    code, _, err = _run(str(path))
    assert code == EXIT_BAD_INPUT
    assert "cannot be decoded" in err or "no sound track" in err
    assert "Traceback" not in err


def test_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    code, _, err = _run(str(tmp_path / "nope.wav"))
    assert code == EXIT_BAD_INPUT
    assert "no such file" in err


def test_silence_gives_no_words_and_says_so(tmp_path: Path) -> None:
    """Ten minutes of near-silence (a faint hiss, as a camera records): no invented text."""
    hiss = np.random.default_rng(1).normal(0, 0.002, 16_000 * 600).astype(np.float32)
    path = write_sound(tmp_path / "quiet.mp4", hiss)
    code, out, err = _run(str(path), "--json")
    assert code == 0
    assert json.loads(out)["words"] == []
    assert "no speech" in err


def test_another_language_is_flagged_not_passed_off_as_english() -> None:
    result = transcribe_file(configured_engine("tiny.en"), GERMAN)
    assert result.status == "low-confidence"
    english = transcribe_file(configured_engine("tiny.en"), voice("search-3"))
    assert english.status == "ok"


def test_the_multilingual_model_names_the_language() -> None:
    result = transcribe_file(configured_engine("base"), GERMAN)
    assert result.status == "other-language"
    assert result.language == "de"
    assert "Berlin" in result.text


def test_samples_and_files_agree() -> None:
    engine = configured_engine()
    from_file = transcribe_file(engine, voice("armed-2"))
    from_samples = transcribe_samples(engine, decode(voice("armed-2")))
    assert from_file.text == from_samples.text


def test_long_recordings_are_read_in_bounded_windows_cut_at_quiet_moments(tmp_path) -> None:
    """What keeps a 3-hour recording's memory flat: the sound comes in windows of about
    five minutes, contiguous, each cut at the quietest moment near its end (here, the
    gap between two bursts), never more than a window plus the search span at once."""
    import av

    from overt.transcripts import speech

    rate = speech.RATE
    seconds = 13 * 60
    rng = np.random.default_rng(2)
    samples = (rng.normal(0, 0.05, seconds * rate)).astype(np.float32)  # loud all through
    quiet_at = int(speech.WINDOW_S - 7)  # a quiet second inside the first cut's search span
    samples[quiet_at * rate : (quiet_at + 1) * rate] = 0.0
    path = write_sound(tmp_path / "long.mp4", samples)
    with av.open(str(path)) as container:
        windows = [(offset, len(chunk)) for offset, chunk in speech._windows(container, [])]
    assert windows[0][0] == 0.0
    for (offset, length), (next_offset, _) in itertools.pairwise(windows):
        assert next_offset == pytest.approx(offset + length / rate)  # no gap, no overlap
    assert max(length for _, length in windows) <= (speech.WINDOW_S + speech.SEARCH_S) * rate
    assert quiet_at < windows[1][0] < quiet_at + 1  # the first cut fell in the quiet second
    assert sum(length for _, length in windows) / rate == pytest.approx(seconds, abs=0.1)


@pytest.mark.parametrize("where", ["missing-folder/c.vtt", "a-folder"])
def test_a_captions_file_that_cannot_be_written_is_a_usage_error(
    tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-folder").mkdir()
    code, out, err = _run(str(voice("armed-1")), "--vtt", str(tmp_path / where))
    assert code == 2, (out, err)  # click's usage error, not a traceback
    assert "--vtt" in err and "Traceback" not in err
    assert out == ""  # refused before any transcribing: no work thrown away


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a full disk)")
def test_a_captions_file_that_fails_to_write_keeps_the_transcript() -> None:
    """Writing the captions fails only after the work (a full disk: /dev/full): the
    transcript is printed first, then the usage error."""
    code, out, err = _run(str(voice("armed-1")), "--vtt", "/dev/full")
    assert code == 2, (out, err)
    assert "--vtt" in err and "Traceback" not in err
    assert out.strip()  # the words were not thrown away
