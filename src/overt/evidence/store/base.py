"""The EvidenceStore contract: write-once objects addressed by their SHA-256.

Backends promise: an object appears under its hash only once all its bytes are
durable; it is never rewritten; identical content is stored once; reads can take
byte ranges (for playback). Removal is `purge()`, which only the retention stage
calls, through its own audited path (overt.retention); nothing else deletes evidence.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from overt import errors

CHUNK_SIZE = 4 << 20  # large enough that hashlib releases the GIL and syscalls are few
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

ProgressCallback = Callable[[int], None]


class StoreError(Exception):
    """The store could not do what was asked; the message says why."""


class SourceReadError(StoreError):
    """The bytes being stored could not be read (the source, not the store, failed)."""


class HashMismatch(StoreError):
    def __init__(self, declared: str, actual: str) -> None:
        super().__init__(f"declared sha256 {declared} but the bytes hash to {actual}")
        self.declared = declared
        self.actual = actual


class InsufficientSpace(errors.NoSpace, StoreError):
    def __init__(self, needed: int, free: int) -> None:
        super().__init__(
            f"not enough free space in the evidence store: need {needed} bytes, {free} free"
        )
        self.needed = needed
        self.free = free


class ObjectLocked(StoreError):
    """The backend's own lock (S3 Object Lock) forbids removing the object yet.

    `retain_until` is when the retention period ends (UTC), or None for a legal hold
    that has no end date; the retention stage defers the purge until then.
    """

    def __init__(
        self, sha256: str, retain_until: datetime | None, mode: str = "", legal_hold: bool = False
    ) -> None:
        if retain_until is not None and not legal_hold:
            why = f"under Object Lock ({mode or 'retention'}) until {retain_until.isoformat()}"
        elif retain_until is not None:
            why = f"under an Object Lock legal hold and retention until {retain_until.isoformat()}"
        else:
            why = "under an Object Lock legal hold"
        super().__init__(f"object {sha256} is {why}; it cannot be purged before then")
        self.sha256 = sha256
        self.retain_until = retain_until
        self.mode = mode
        self.legal_hold = legal_hold


class ObjectNotFound(StoreError, KeyError):
    def __str__(self) -> str:
        return f"no object {self.args[0]} in the evidence store"


@dataclass(frozen=True, slots=True)
class StoredObject:
    sha256: str
    size: int
    created: bool  # False when identical content was already stored


PART_SUFFIX = ".part"
ABANDONED_AFTER_S = 24 * 3600  # a partial older than this is abandoned whoever wrote it


def part_name(prefix: str = "") -> str:
    """A partial file's name: it says which host and process is writing it."""
    host = socket.gethostname().replace(".", "_")
    return f"{prefix}{host}.{os.getpid()}.{secrets.token_hex(8)}{PART_SUFFIX}"


def is_abandoned(path: Path, prefix: str = "") -> bool:
    """True when the writer of a partial file is gone, so it can be removed safely.

    Only a writer on this host can be checked by pid (pids are per host or container);
    another host's partial is left alone until it is a day old.
    """
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False
    if age > ABANDONED_AFTER_S:
        return True
    host, _, rest = path.name[len(prefix) :].partition(".")
    pid_text = rest.split(".", 1)[0]
    if host != socket.gethostname().replace(".", "_") or not pid_text.isdigit():
        return False
    return not _pid_alive(int(pid_text))


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_sha256(value: str) -> str:
    if not SHA256_RE.match(value):
        raise ValueError(f"not a lowercase hex SHA-256: {value!r}")
    return value


class EvidenceStore(ABC):
    """Write-once, content-addressed storage for originals and derivatives."""

    url: str

    @abstractmethod
    def put(
        self,
        source: BinaryIO,
        *,
        expected_sha256: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> StoredObject:
        """Stream `source` in, hashing as it goes; durable when this returns.

        Raises HashMismatch (nothing stored) if `expected_sha256` is given and wrong.
        """

    def put_file(
        self,
        path: Path,
        *,
        expected_sha256: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> StoredObject:
        with open(path, "rb", buffering=0) as fh:
            return self.put(fh, expected_sha256=expected_sha256, progress=progress)

    def adopt(
        self, path: Path, *, expected_sha256: str | None = None, hashed: bool = False
    ) -> StoredObject:
        """Take `path`, a complete file that its caller owns and will not write again,
        into the store; durable when this returns, and `path` itself is left in place
        (the caller removes its own name for it). Backends that can do better than a
        copy (a hard link, an upload without a spool) override this.

        `hashed=True` says that `expected_sha256` was computed from these very bytes as
        the caller wrote and fsynced them; a backend that links the file may then take
        it without reading the file again. Raises HashMismatch (nothing stored) if
        `expected_sha256` is given and the bytes hash otherwise.
        """
        if hashed and expected_sha256 is None:
            raise ValueError("hashed=True needs expected_sha256")
        return self.put_file(path, expected_sha256=expected_sha256)

    def room_to_adopt(self, path: Path) -> int:
        """The new room in this store that adopting `path` would take: its size, unless
        the file becomes the object without a copy."""
        return path.stat().st_size

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def size(self, sha256: str) -> int: ...

    @abstractmethod
    def read_range(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield bytes [start, end) of the object; end=None means to the end."""

    @abstractmethod
    def iter_hashes(self) -> Iterator[str]:
        """Every stored object's hash (for the sanity checker)."""

    @abstractmethod
    def location(self, sha256: str) -> str:
        """Where the object lives, for messages and for `overt verify`."""

    def local_path(self, sha256: str) -> Path | None:
        """A filesystem path for readers that need one (PyAV), or None for remote stores."""
        return None

    def copy_to(self, sha256: str, path: Path) -> Path:
        """Write the object's bytes to `path` (a scratch copy for readers that need a file)."""
        with open(path, "wb") as fh:
            for chunk in self.read_range(sha256):
                fh.write(chunk)
        return path

    @contextmanager
    def local_copy(self, sha256: str) -> Iterator[Path]:
        """A file holding the object: the stored file itself where there is one, else a
        temporary copy removed on exit. Callers must only read it."""
        path = self.local_path(sha256)
        if path is not None:
            yield path
            return
        with tempfile.TemporaryDirectory(prefix="overt-object-") as tmp:
            yield self.copy_to(sha256, Path(tmp) / sha256)

    def free_bytes(self) -> int | None:
        """Free space for new objects, or None where the backend has no limit to report."""
        return None

    @abstractmethod
    def purge(self, sha256: str) -> None:
        """Remove the object's bytes for good (every stored version of them).

        Only the retention stage calls this, after its own checks and with a deletion
        certificate. Idempotent: an object that is already gone is not an error, so an
        interrupted purge can simply be run again. Raises ObjectLocked (nothing removed)
        while the backend's own lock is in force, and StoreError when removal fails.
        """

    def lock_until(self, sha256: str) -> datetime | None:
        """When the backend's own lock on the object ends, if one is in force now.

        None means the backend would not refuse a purge for a lock. A legal hold with no
        end date is reported by raising ObjectLocked.
        """
        return None

    def cleanup_incomplete(self) -> int:
        """Remove partial writes left by crashed processes; return how many were removed."""
        return 0

    def rehash(self, sha256: str) -> str:
        """Hash the stored bytes again (the sanity checker's read)."""
        digest = hashlib.sha256()
        for chunk in self.read_range(sha256):
            digest.update(chunk)
        return digest.hexdigest()
