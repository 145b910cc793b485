"""A store as the ingest service sees it when the file to ingest is already a finished,
durable file that its caller owns and will not write again (a tus upload received in
full, a staged Axis clip): `put_file` of that file adopts it (`EvidenceStore.adopt`: a
hard link into the local store, an upload without a spool to S3) instead of copying it.

Free space counts the room the file already takes on the store's disk as free: it was
reserved when the upload was created, and a link takes none more, so it is not counted
against the reserve a second time (issue 11 item 9)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from .base import EvidenceStore, HashMismatch, ProgressCallback, StoredObject


class AdoptingStore(EvidenceStore):
    def __init__(self, store: EvidenceStore, path: Path, sha256: str | None = None) -> None:
        """`sha256`, when given, was computed from the file's bytes as they were written
        and fsynced; the store may then take it without reading the file again."""
        self.store = store
        self.adopted = path
        self.sha256 = sha256
        self.url = store.url

    def put_file(
        self,
        path: Path,
        *,
        expected_sha256: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> StoredObject:
        if path != self.adopted:  # not the file this view was made for: a plain copy
            return self.store.put_file(path, expected_sha256=expected_sha256, progress=progress)
        if self.sha256 and expected_sha256 and expected_sha256 != self.sha256:
            raise HashMismatch(expected_sha256, self.sha256)
        stored = self.store.adopt(
            path, expected_sha256=self.sha256 or expected_sha256, hashed=bool(self.sha256)
        )
        if progress is not None:
            progress(stored.size)
        return stored

    def free_bytes(self) -> int | None:
        free = self.store.free_bytes()
        if free is None:
            return None
        try:
            already_here = self.adopted.stat().st_size - self.store.room_to_adopt(self.adopted)
        except OSError:
            already_here = 0  # gone: ingest says so when it opens it
        return free + already_here

    # Everything else is the store's own.

    def put(
        self,
        source: BinaryIO,
        *,
        expected_sha256: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> StoredObject:
        return self.store.put(source, expected_sha256=expected_sha256, progress=progress)

    def adopt(
        self, path: Path, *, expected_sha256: str | None = None, hashed: bool = False
    ) -> StoredObject:
        return self.store.adopt(path, expected_sha256=expected_sha256, hashed=hashed)

    def room_to_adopt(self, path: Path) -> int:
        return self.store.room_to_adopt(path)

    def exists(self, sha256: str) -> bool:
        return self.store.exists(sha256)

    def size(self, sha256: str) -> int:
        return self.store.size(sha256)

    def read_range(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        return self.store.read_range(sha256, start, end)

    def iter_hashes(self) -> Iterator[str]:
        return self.store.iter_hashes()

    def location(self, sha256: str) -> str:
        return self.store.location(sha256)

    def local_path(self, sha256: str) -> Path | None:
        return self.store.local_path(sha256)

    def copy_to(self, sha256: str, path: Path) -> Path:
        return self.store.copy_to(sha256, path)

    def purge(self, sha256: str) -> None:
        self.store.purge(sha256)

    def lock_until(self, sha256: str) -> datetime | None:
        return self.store.lock_until(sha256)

    def cleanup_incomplete(self) -> int:
        return self.store.cleanup_incomplete()

    def rehash(self, sha256: str) -> str:
        return self.store.rehash(sha256)
