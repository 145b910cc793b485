"""Fixtures for the transcript tests: a camera clip with real speech in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from overt.conf import get_settings
from overt.demo.footage import AUDIO_RATE, render_clip
from overt.demo.speech import LINES, speech_track
from support_cli import CLIP_START

SPOKEN_AT_S = 3.0


@pytest.fixture(scope="session")
def speech_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of camera footage in which PC Hughes speaks the search-1 line at 3 s."""
    line = next(line for line in LINES if line.key == "search-1")
    shifted = type(line)(line.key, 99, SPOKEN_AT_S, line.speaker, line.text)
    import overt.demo.speech as speech

    saved = speech.LINES
    speech.LINES = (shifted,)
    try:
        track = speech_track(99, 0.0, 12.0, AUDIO_RATE)
    finally:
        speech.LINES = saved
    path = tmp_path_factory.mktemp("speech") / "speech.mp4"
    render_clip(
        path,
        seed=16,
        start_utc=CLIP_START,
        duration_s=12,
        device_serial="CAM-1",
        officer_number="MP100",
        width=160,
        height=90,
        speech=track,
    )
    return path


@pytest.fixture
def clean_queue() -> None:
    """An empty RQ queue on the scaled engines, so no earlier test's message runs here."""
    if get_settings().jobs_engine == "redis":
        import django_rq

        django_rq.get_connection("default").flushdb()
