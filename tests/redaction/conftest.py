"""Fixtures shared by the redaction tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from overt.redaction.evalset import make_eval_clip


@pytest.fixture(scope="session")
def big_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s 640x360 clip with two large faces (70 and 100 px), made once per worker:
    the leak check and the settings find them, and a redacted copy hides them."""
    path = tmp_path_factory.mktemp("faces") / "faces.mp4"
    make_eval_clip(
        path, seed=21, faces=2, width=640, height=360, duration_s=2.0, sizes=(70.0, 100.0)
    )
    return path
