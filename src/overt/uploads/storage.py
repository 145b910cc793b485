"""The upload directory: partial files, staged Axis clips, quarantine, and handing a
finished file to the evidence store.

Layout under `OVERT_UPLOAD_DIR` (default `$OVERT_HOME/uploads`):

    tus/<id>.part          a tus upload being received (bytes [0, offset) are durable)
    axis/<token>.part      an Axis clip staged until its recording is complete
    quarantine/...         bytes that failed a check: read-only, never removed by overt
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

from overt.conf import get_settings

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
HASH_CHUNK = 4 << 20


def root() -> Path:
    settings = get_settings()
    base = Path(settings.upload_dir).expanduser() if settings.upload_dir else None
    path = (base or settings.home_dir / "uploads").resolve()
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
    return path


def folder(name: str) -> Path:
    path = root() / name
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        fsync_dir(path.parent)
    return path


def tus_path(upload_id: str) -> Path:
    return folder("tus") / f"{upload_id}.part"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_empty(path: Path) -> None:
    """Create a new empty file durably (its directory entry survives a power cut)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(path.parent)


def remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    fsync_dir(path.parent)


def free_bytes() -> int:
    return shutil.disk_usage(root()).free


def hash_file(path: Path, upto: int | None = None, algorithm: str = "sha256") -> hashlib._Hash:
    """The hash state of the file's first `upto` bytes (all of it when None)."""
    digest = hashlib.new(algorithm)
    remaining = upto
    with open(path, "rb", buffering=0) as fh:
        while remaining is None or remaining > 0:
            want = HASH_CHUNK if remaining is None else min(HASH_CHUNK, remaining)
            chunk = fh.read(want)
            if not chunk:
                break
            digest.update(chunk)
            if remaining is not None:
                remaining -= len(chunk)
    if remaining:
        raise OSError(f"{path} is {remaining} bytes shorter than expected")
    return digest


def quarantine(path: Path, name: str) -> Path:
    """Move a file into quarantine/, read-only, durably. Returns its new path."""
    dest = folder("quarantine") / name
    os.chmod(path, READ_ONLY)
    os.rename(path, dest)
    fsync_dir(dest.parent)
    fsync_dir(path.parent)
    return dest


def quarantine_copy(src_fd: int, start: int, length: int, name: str) -> tuple[Path, str]:
    """Copy bytes [start, start+length) of an open file into quarantine/; return the new
    file's path and SHA-256."""
    dest = folder("quarantine") / name
    digest = hashlib.sha256()
    out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        done = 0
        while done < length:
            chunk = os.pread(src_fd, min(HASH_CHUNK, length - done), start + done)
            if not chunk:
                raise OSError("the chunk to quarantine is shorter than it was written")
            digest.update(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.write(out, view) :]
            done += len(chunk)
        os.fsync(out)
    finally:
        os.close(out)
    os.chmod(dest, READ_ONLY)
    fsync_dir(dest.parent)
    return dest, digest.hexdigest()
