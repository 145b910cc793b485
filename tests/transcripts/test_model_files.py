"""Model files are hash-checked at load: a missing or altered file is named; nothing is
fetched."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from overt.transcripts.asr_models import (
    MODELS,
    ModelFileError,
    ModelSpec,
    PinnedFile,
    model_directory,
    package_path,
    verified,
)


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    package = tmp_path / "site" / "fake_model_pkg"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    sys.modules.pop("fake_model_pkg", None)
    return package


def _spec(files: dict[str, tuple[str, bytes]], joined: bool = False) -> ModelSpec:
    pinned = {
        name: PinnedFile("fake_model_pkg", rel, hashlib.sha256(body).hexdigest())
        for name, (rel, body) in files.items()
    }
    return ModelSpec("fake", "fake", ("fake==1",), pinned)


def test_the_pinned_files_are_the_installed_ones() -> None:
    for spec in MODELS.values():
        for pinned in spec.files.values():
            assert verified(package_path(pinned), pinned.sha256)


def test_an_altered_file_is_named(fake_package: Path, tmp_path: Path) -> None:
    (fake_package / "data" / "model.bin").write_bytes(b"weights")
    spec = _spec({"model.bin": ("data/model.bin", b"weights")})
    assert model_directory(spec, tmp_path / "work") == fake_package / "data"
    (fake_package / "data" / "model.bin").write_bytes(b"weightz")
    with pytest.raises(ModelFileError, match=r"altered: .*model\.bin"):
        model_directory(spec, tmp_path / "work")


def test_a_missing_file_is_named(fake_package: Path, tmp_path: Path) -> None:
    spec = _spec({"tokenizer.json": ("data/tokenizer.json", b"{}")})
    with pytest.raises(ModelFileError, match=r"missing: .*tokenizer\.json"):
        model_directory(spec, tmp_path / "work")


def test_a_missing_package_is_named(tmp_path: Path) -> None:
    spec = ModelSpec("x", "x", (), {"a": PinnedFile("no_such_model_pkg_16", "a", "0" * 64)})
    with pytest.raises(ModelFileError, match="no_such_model_pkg_16"):
        model_directory(spec, tmp_path)


def test_a_split_model_is_joined_then_checked(tmp_path: Path) -> None:
    """The base model's parts join into the work directory, which is checked on load:
    a joined file altered afterwards is refused, by name."""
    target = model_directory(MODELS["base"], tmp_path)
    joined = target / "model.bin"
    assert joined.stat().st_size > 100_000_000
    with joined.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01")
    with pytest.raises(ModelFileError, match=r"altered: .*model\.bin"):
        model_directory(MODELS["base"], tmp_path)
