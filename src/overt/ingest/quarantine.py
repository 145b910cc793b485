"""Quarantine for dock-folder files that cannot be catalogued as they are.

The bytes are kept exactly as they came, with their sidecar, beside a reason file a
person can read; a custody `verify` entry (ok: false) records their SHA-256, so the log
shows they arrived even though no catalogue row exists. Nothing here is ever deleted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction

from overt.custody.services import Actor, Subject, record

log = logging.getLogger(__name__)
REASON_SUFFIX = ".reason.txt"


def quarantine_dock_file(path: Path, sidecar_path: Path, folder: Path, reason: str) -> Path:
    """Move `path` (and its sidecar, if any) into `folder`; return the file's new path."""
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, path.name)
    sha256, size = _hash(path)
    shutil.move(str(path), target)
    moved_sidecar = None
    if sidecar_path.exists():
        moved_sidecar = target.with_name(target.name + ".json")
        shutil.move(str(sidecar_path), moved_sidecar)
    reason_path = target.with_name(target.name + REASON_SUFFIX)
    reason_path.write_text(
        f"file: {path.name}\n"
        f"size: {size}\n"
        f"sha256: {sha256}\n"
        f"sidecar: {sidecar_path.name if moved_sidecar else '(none)'}\n"
        f"quarantined: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
        f"reason: {reason}\n\n"
        "Nothing was catalogued. Fix the cause (usually the sidecar), then move the file and\n"
        "its sidecar back into the dock folder under their original names.\n",
        encoding="utf-8",
    )
    _fsync_dir(folder)
    log.error("dock file %s quarantined in %s: %s", path.name, folder, reason)
    try:
        with transaction.atomic():
            record(
                "verify",
                Actor.system("watch"),
                Subject(sha256, {"dock_file": path.name}),
                details={
                    "ok": False,
                    "what": "dock file",
                    "reason": reason[:2000],
                    "size": size,
                    "filename": path.name,
                    "quarantined": str(target),
                },
            )
    except Exception:  # the bytes and the reason file are safe; the log can be told later
        log.exception("custody entry for quarantined %s not written", path.name)
    return target


def _free_name(folder: Path, name: str) -> Path:
    """A name not yet used in `folder`, for the file, its sidecar and its reason."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    target, counter = folder / name, 1
    while any(
        p.exists() for p in (target, Path(f"{target}.json"), Path(f"{target}{REASON_SUFFIX}"))
    ):
        target = folder / (f"{stem}.{counter}.{suffix}" if suffix else f"{stem}.{counter}")
        counter += 1
    return target


def _hash(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
