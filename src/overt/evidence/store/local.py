"""The local filesystem backend: objects under objects/ab/cd/<sha256>, read-only."""

from __future__ import annotations

import errno
import hashlib
import os
import queue
import shutil
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .base import (
    CHUNK_SIZE,
    EvidenceStore,
    HashMismatch,
    InsufficientSpace,
    ObjectNotFound,
    ProgressCallback,
    SourceReadError,
    StoredObject,
    StoreError,
    check_sha256,
    is_abandoned,
    part_name,
)

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
WRITEBACK_WINDOW = 32 << 20
# The unit of ingest's read, hash and write. Measured once on this project's ext4 VM, by
# varying this constant around bench/ingest.py's floor_run()/overt_run() (quiet machine,
# 1 GiB, medians of three): put_file() took 3.9 s with 4 MiB write() calls, 1.4 s with
# 1 MiB, 1.2 s with 512 KiB, 1.2-1.3 s with 256 KiB, 1.4 s with 64 KiB. hashlib still releases
# the GIL at this size, and the queue costs microseconds per chunk.
WRITE_CHUNK_SIZE = 512 << 10


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing this range to disk now.

    Linux otherwise holds dirty pages until 10% of RAM is dirty, so a 1 GiB object would
    wait for its whole disk write in the final fsync, after the hashing; overlapping the
    two is much of why ingest keeps up with `openssl dgst` + `cp` (bench/ingest.py). The
    fsync still decides durability. DONTNEED also keeps stored evidence out of the page cache.
    """
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


class _Writer:
    """Writes chunks to `fd` on its own thread, so hashing (which releases the GIL) and
    writing use both cores instead of taking turns. A chunk's buffer is read by both
    threads and goes back to the pool only once written; the pool's size bounds memory
    (BUFFERS x WRITE_CHUNK_SIZE) and how far reading may run ahead of the disk."""

    BUFFERS = 8

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.error: OSError | None = None
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(self.BUFFERS):
            self._free.put(bytearray(WRITE_CHUNK_SIZE))
        self._work: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="overt-store-writer", daemon=True)
        self._thread.start()

    def free_buffer(self) -> bytearray:
        return self._free.get()

    def write(self, buffer: bytearray, n: int) -> None:
        self._work.put((buffer, n))

    def finish(self) -> None:
        """Wait for every chunk, then fsync; raise the first write error."""
        self._work.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error
        os.fsync(self.fd)

    def abandon(self) -> None:
        """Stop after what is queued, and close the file (the caller removes it)."""
        self._work.put(None)
        self._thread.join()
        os.close(self.fd)

    def _run(self) -> None:
        offset = flushed = 0
        while (item := self._work.get()) is not None:
            buffer, n = item
            if self.error is None:
                try:
                    view = memoryview(buffer)[:n]
                    written = 0
                    while written < n:
                        written += os.write(self.fd, view[written:])
                    offset += n
                    if offset - flushed >= WRITEBACK_WINDOW:
                        _start_writeback(self.fd, flushed, offset - flushed)
                        flushed = offset
                except OSError as exc:
                    self.error = exc  # the reader sees it and stops; finish() raises it
            self._free.put(buffer)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _hash_fd(fd: int) -> str:
    digest = hashlib.sha256()
    offset = 0
    try:
        while chunk := os.pread(fd, CHUNK_SIZE, offset):
            digest.update(chunk)
            offset += len(chunk)
    except OSError as exc:
        raise SourceReadError(f"reading the file to adopt failed: {exc}") from exc
    return digest.hexdigest()


class LocalStore(EvidenceStore):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.tmp = root / "tmp"
        self.url = root.as_uri()
        self.objects.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def put(
        self,
        source: BinaryIO,
        *,
        expected_sha256: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> StoredObject:
        if expected_sha256 is not None:
            check_sha256(expected_sha256)
        # Host and pid in the name let cleanup_incomplete() tell a crashed writer's
        # leftovers from a live writer's work in progress.
        tmp_path = self.tmp / part_name()
        digest = hashlib.sha256()
        size = 0
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        writer = _Writer(fd)
        try:
            while writer.error is None:
                buffer = writer.free_buffer()
                try:
                    # typing.BinaryIO has no readinto; the files and streams overt reads have.
                    n = source.readinto(buffer)  # type: ignore[attr-defined]
                except OSError as exc:
                    raise SourceReadError(f"reading the source failed: {exc}") from exc
                if not n:
                    break
                chunk = memoryview(buffer)[:n]
                writer.write(buffer, n)  # written on the writer's thread...
                digest.update(chunk)  # ...while this one hashes the same bytes
                size += n
                if progress is not None:
                    progress(size)
            writer.finish()  # every byte written and fsynced, or the writer's error
        except SourceReadError:
            writer.abandon()
            tmp_path.unlink(missing_ok=True)
            raise
        except OSError as exc:
            writer.abandon()
            tmp_path.unlink(missing_ok=True)
            if exc.errno == errno.ENOSPC:
                raise InsufficientSpace(size, self.free_bytes() or 0) from exc
            raise StoreError(f"writing to the local store failed: {exc}") from exc
        except BaseException:
            writer.abandon()
            tmp_path.unlink(missing_ok=True)
            raise
        os.close(fd)

        sha256 = digest.hexdigest()
        if expected_sha256 is not None and sha256 != expected_sha256:
            tmp_path.unlink(missing_ok=True)
            raise HashMismatch(expected_sha256, sha256)

        final = self.path(sha256)
        if final.exists():
            tmp_path.unlink(missing_ok=True)
            return StoredObject(sha256, size, created=False)
        self._make_dirs_durably(final.parent)
        os.chmod(tmp_path, READ_ONLY)
        # link() fails if another writer got there first, so an object is never replaced.
        try:
            os.link(tmp_path, final)
            created = True
        except FileExistsError:
            created = False
        tmp_path.unlink(missing_ok=True)
        _fsync_dir(final.parent)
        _fsync_dir(self.tmp)
        return StoredObject(sha256, size, created=created)

    def adopt(
        self, path: Path, *, expected_sha256: str | None = None, hashed: bool = False
    ) -> StoredObject:
        """The file itself becomes the object, by hard link (no second copy): made
        read-only and fsynced, linked in with link() that never replaces an object, its
        directories fsynced, as `put` does. Across filesystems (or mounts) it is copied
        in as by `put_file`."""
        if expected_sha256 is not None:
            check_sha256(expected_sha256)
        if hashed and expected_sha256 is None:
            raise ValueError("hashed=True needs expected_sha256")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            raise SourceReadError(f"opening {path} failed: {exc}") from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise SourceReadError(f"{path} is not a regular file")
            if info.st_dev != os.stat(self.tmp).st_dev:
                return self._copy_in(fd, expected_sha256)
            if hashed and expected_sha256 is not None:
                sha256 = expected_sha256
            else:
                sha256 = _hash_fd(fd)
            if expected_sha256 is not None and sha256 != expected_sha256:
                raise HashMismatch(expected_sha256, sha256)
            final = self.path(sha256)
            if final.exists():
                return StoredObject(sha256, info.st_size, created=False)
            self._make_dirs_durably(final.parent)
            os.fchmod(fd, READ_ONLY)
            os.fsync(fd)  # the bytes, and the mode, before the name that says they are kept
            # Linked first under tmp/, checked to be the very file that was opened (and
            # hashed), then under its hash: a file put in `path`'s place meanwhile never
            # gets an object's name.
            staging = self.tmp / part_name()
            try:
                os.link(path, staging, follow_symlinks=False)
            except OSError as exc:
                if exc.errno == errno.EXDEV:  # another mount of the same filesystem
                    return self._copy_in(fd, expected_sha256)
                raise StoreError(f"linking {path} into the local store failed: {exc}") from exc
            try:
                linked = os.stat(staging, follow_symlinks=False)
                if (linked.st_dev, linked.st_ino) != (info.st_dev, info.st_ino):
                    raise SourceReadError(f"{path} was replaced while it was being adopted")
                try:
                    os.link(staging, final)
                    created = True
                except FileExistsError:
                    created = False
            finally:
                staging.unlink(missing_ok=True)
            _fsync_dir(final.parent)
            _fsync_dir(self.tmp)
            return StoredObject(sha256, info.st_size, created=created)
        finally:
            os.close(fd)

    def _copy_in(self, fd: int, expected_sha256: str | None) -> StoredObject:
        with open(os.dup(fd), "rb", buffering=0) as source:
            source.seek(0)
            return self.put(source, expected_sha256=expected_sha256)

    def room_to_adopt(self, path: Path) -> int:
        info = os.stat(path)
        return 0 if info.st_dev == os.stat(self.tmp).st_dev else info.st_size

    def _make_dirs_durably(self, folder: Path) -> None:
        """Create objects/ab/cd and fsync each new entry's parent, or a power cut could
        lose a directory (and the object in it) that we already reported durable."""
        missing = []
        while not folder.exists() and folder != self.objects:
            missing.append(folder)
            folder = folder.parent
        for new in reversed(missing):
            new.mkdir(exist_ok=True)
            _fsync_dir(new.parent)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            raise ObjectNotFound(sha256) from None

    def read_range(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if start < 0:
            raise ValueError(f"a byte range cannot start before 0 (got {start})")
        path = self.path(sha256)
        try:
            fh = open(path, "rb", buffering=0)
        except FileNotFoundError:
            raise ObjectNotFound(sha256) from None
        return self._iter_file(fh, start, end)

    @staticmethod
    def _iter_file(fh: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
        with fh:
            fh.seek(start)
            remaining = None if end is None else max(0, end - start)
            while remaining is None or remaining > 0:
                want = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                chunk = fh.read(want)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def iter_hashes(self) -> Iterator[str]:
        for path in sorted(self.objects.glob("??/??/*")):
            if path.is_file():
                yield path.name

    def location(self, sha256: str) -> str:
        return str(self.path(sha256))

    def local_path(self, sha256: str) -> Path | None:
        path = self.path(sha256)
        return path if path.exists() else None

    def free_bytes(self) -> int | None:
        return shutil.disk_usage(self.root).free

    def purge(self, sha256: str) -> None:
        path = self.path(sha256)
        try:
            os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"purging {path} failed: cannot make it writable: {exc}") from exc
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            try:  # keep what could not be removed read-only, as it was
                os.chmod(path, READ_ONLY)
            except OSError:
                pass
            raise StoreError(f"purging {path} failed: {exc.strerror or exc}") from exc
        # The removal is durable only once the directory entry's change is.
        try:
            _fsync_dir(path.parent)
        except OSError as exc:
            raise StoreError(f"purging {path}: syncing its directory failed: {exc}") from exc

    def cleanup_incomplete(self) -> int:
        removed = 0
        for part in self.tmp.glob("*.part"):
            if is_abandoned(part):
                part.unlink(missing_ok=True)
                removed += 1
        return removed
