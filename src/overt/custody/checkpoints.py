"""Signed checkpoints of the custody log: issuing, finding and publishing them.

A checkpoint is a C2SP tlog-checkpoint (origin line, tree size, base64 root hash) signed
as a C2SP note with the instance's Ed25519 key. Ed25519 signatures are deterministic, so
the checkpoint for a given size is always the same text: issuing again without new entries
returns the one already stored.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import IntegrityError, transaction

from . import checkpoint as tlog
from . import tree
from .keys import load_signing_key, verifier_key_text
from .models import Checkpoint

__all__ = ["issue_checkpoint", "latest_checkpoint", "publish"]


def issue_checkpoint() -> Checkpoint:
    """Sign the log as it is now and store the checkpoint; return it.

    The signing key's permissions are checked first; a key others can read is refused.
    """
    key = load_signing_key()
    size, root = tree.root()
    existing = Checkpoint.objects.filter(size=size).first()
    if existing is not None:
        return existing
    body = tlog.Checkpoint(origin=key.name, size=size, root_hash=root)
    note = tlog.sign(body, key.name, key.private_key)
    try:
        with transaction.atomic():
            return Checkpoint.objects.create(
                size=size, root=root.hex(), note=note, issued_at=datetime.now(UTC)
            )
    except IntegrityError:  # another process signed the same size first; same text
        return Checkpoint.objects.get(size=size)


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


@dataclass(frozen=True)
class Published:
    folder: Path
    latest: Checkpoint
    files: list[Path]


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish(folder: Path) -> Published:
    """Write the checkpoints to ``folder`` for an outside witness to mirror.

    Issues a checkpoint of the log as it is now, then writes:

    * ``checkpoint``: the latest signed checkpoint;
    * ``checkpoints/<size>``: every checkpoint ever issued, one file each;
    * ``verifier-key``: the key to check their signatures with.

    Files already there are replaced only by identical text (checkpoints never change), so
    re-running it only adds what is new.
    """
    latest = issue_checkpoint()
    files = []
    for cp in Checkpoint.objects.order_by("size").iterator():
        path = folder / "checkpoints" / str(cp.size)
        if not (path.exists() and path.read_text("utf-8") == cp.note):
            _write_atomic(path, cp.note)
        files.append(path)
    _write_atomic(folder / "checkpoint", latest.note)
    _write_atomic(folder / "verifier-key", verifier_key_text() + "\n")
    files += [folder / "checkpoint", folder / "verifier-key"]
    return Published(folder, latest, files)
