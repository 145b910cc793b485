"""A tus request's body, written to the upload's file at its offset: hashed on the way,
fsynced at checkpoints, the offset in the database only ever counting fsynced bytes; and
how the request ended (the Outcome the tus handler answers with).

Without Upload-Checksum every byte that arrives is kept; with one, nothing of the chunk
counts until the whole chunk is verified, and a chunk that fails is kept in quarantine.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import hashlib
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from . import completion, services, storage
from .asgi_body import BATCH_BYTES, IDLE_TIMEOUT_S, SLOTS, db, db_long, io, rewind, write_batch
from .asgi_http import HTTPProblem, Request, as_problem
from .models import Upload
from .tokens import Principal
from .tusmeta import Checksum

log = logging.getLogger(__name__)

CHECKPOINT_BYTES = 64 << 20  # without a checksum, fsync and record the offset this often
WRITEBACK_BYTES = 16 << 20  # start the disk writing what arrived, this often
HASH_CACHE_SIZE = 4096

# Running SHA-256 of each upload's durable bytes, so completion needs no second read.
# Lost on restart (or on another node): then it is recomputed from the file.
_HASHES: OrderedDict[str, tuple[int, Any]] = OrderedDict()


def http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


@dataclass
class Outcome:
    """How a request that reached an upload ended: the status and headers to answer
    with, or the problem to answer instead (it carries the headers too)."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    problem: HTTPProblem | None = None


def outcome_for(upload: Upload) -> Outcome:
    """The answer for an upload as it stands (runs in a database thread)."""
    headers = [("Overt-Upload-Status", upload.status)]
    if upload.sha256:
        headers.append(("Overt-Sha256", upload.sha256))
    if upload.original_id:
        recording = completion.recording_of(upload)
        headers.append(("Overt-Original", str(upload.original_id)))
        if recording is not None:
            headers.append(("Overt-Recording", str(recording)))
    failure = completion.failure_of(upload)
    if failure is not None:
        return Outcome(failure.status, headers, as_problem(failure))
    return Outcome(204, headers)


def finish_outcome(upload_id: str, owner: str, sha256: str | None, offset: int) -> Outcome:
    return outcome_for(completion.finish(upload_id, owner, sha256, offset))


class Lock:
    """This request's hold on an upload's database lock."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.held = True

    async def release(self, upload_id: str, offset: int | None = None) -> Upload | None:
        if not self.held:
            return None
        self.held = False
        return await db(services.release, upload_id, self.owner, offset)


async def receive_body(
    request: Request,
    upload: Upload,
    principal: Principal,
    lock: Lock,
    checksum: Checksum | None,
) -> Outcome:
    """Write the request body at the upload's offset; return how the request ended.

    Without Upload-Checksum every byte that arrives is kept: the offset becomes exactly
    the bytes written and fsynced, even when the client disconnects mid-chunk. With a
    checksum nothing of the chunk counts until the whole chunk is verified.
    """
    upload_id = upload.id
    start = upload.offset
    path = storage.tus_path(upload_id)
    try:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if start == 0 else 0), 0o600)
    except FileNotFoundError:
        log.error("upload %s: its file is missing at offset %d", upload_id, start)
        raise HTTPProblem(500, "the upload's file is missing; start a new upload") from None
    try:
        size = os.fstat(fd).st_size
        if size < start:
            log.error("upload %s: file has %d bytes, offset says %d", upload_id, size, start)
            raise HTTPProblem(500, "the upload file is shorter than its recorded offset")
        if size > start:  # bytes after the durable offset were never acknowledged
            os.ftruncate(fd, start)
        running = await running_hash(upload_id, start, path)
        base = running.copy() if checksum else None
        shared = checksum is not None and checksum.algorithm == "sha256" and start == 0
        chunk_hash = checksum.new() if checksum and not shared else None
        hashers = [running] if chunk_hash is None else [running, chunk_hash]
        # A new file's directory entry must be durable before any offset counts on it.
        entry = DirEntry(path.parent) if start == 0 else None
        try:
            written, ended = await pump(
                request,
                fd,
                start,
                upload.length - start,
                hashers,
                upload_id,
                lock,
                record_offsets=checksum is None,
                entry=entry,
            )
        except BaseException:
            _HASHES.pop(upload_id, None)
            raise
        end = start + written
        if ended == "overflow":
            await io(rewind, fd, start)
            _HASHES.pop(upload_id, None)
            raise HTTPProblem(413, f"the body runs past Upload-Length {upload.length}")
        if checksum is not None:
            if ended != "complete":
                await io(rewind, fd, start)
                remember_hash(upload_id, start, base)
                raise HTTPProblem(
                    408 if ended == "timeout" else 400,
                    "the chunk ended early, so its checksum cannot be verified; it was "
                    f"discarded and the offset stays {start}",
                )
            # Not shared: chunk_hash was made for this checksum, so it is there.
            actual = (running if shared else chunk_hash).digest()  # type: ignore[union-attr]
            if actual != checksum.digest:
                await db(
                    completion.quarantine_chunk,
                    upload,
                    principal,
                    fd,
                    start,
                    written,
                    checksum.algorithm,
                    base64.b64encode(checksum.digest).decode(),
                    base64.b64encode(actual).decode(),
                )
                await io(rewind, fd, start)
                remember_hash(upload_id, start, base)
                raise HTTPProblem(
                    460,
                    f"the chunk does not match its Upload-Checksum ({checksum.algorithm}); "
                    f"it was kept in quarantine, not added, and the offset stays {start}",
                    headers=[("Upload-Offset", str(start))],
                    offset=start,
                )
        if entry is not None and written:
            await entry.sync()
        remember_hash(upload_id, end, running)
        if end == upload.length:
            lock.held = False  # finish() releases it with the outcome
            try:
                outcome = await db_long(
                    finish_outcome, upload_id, lock.owner, running.hexdigest(), end
                )
            except BaseException:
                # Whatever failed, the bytes are durable: record them, free the lock.
                await db(services.release, upload_id, lock.owner, end)
                raise
            _HASHES.pop(upload_id, None)
            outcome.headers.append(("Upload-Offset", str(end)))
            return outcome
        current = await lock.release(upload_id, end)
        expires = [("Upload-Expires", http_date(current.expires_at))] if current else []
        if ended == "timeout":
            raise HTTPProblem(
                408,
                f"no bytes for {IDLE_TIMEOUT_S:.0f} s; kept {written}, offset is {end}",
                headers=[("Upload-Offset", str(end)), *expires],
            )
        return Outcome(204, [("Upload-Offset", str(end)), *expires])
    finally:
        os.close(fd)


class DirEntry:
    """fsync a directory once, the first time a new file's bytes are to count."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.done = False

    async def sync(self) -> None:
        if not self.done:
            await io(storage.fsync_dir, self.folder)
            self.done = True


async def running_hash(upload_id: str, offset: int, path: Any) -> Any:
    entry = _HASHES.pop(upload_id, None)
    if entry is not None and entry[0] == offset:
        return entry[1]
    if offset == 0:
        return hashlib.sha256()
    return await io(storage.hash_file, path, offset)


def remember_hash(upload_id: str, offset: int, state: Any) -> None:
    _HASHES[upload_id] = (offset, state)
    _HASHES.move_to_end(upload_id)
    while len(_HASHES) > HASH_CACHE_SIZE:
        _HASHES.popitem(last=False)


async def pump(
    request: Request,
    fd: int,
    start: int,
    limit: int,
    hashers: list[Any],
    upload_id: str,
    lock: Lock,
    *,
    record_offsets: bool,
    entry: DirEntry | None,
) -> tuple[int, str]:
    """Move the body into the file. Returns (bytes written and fsynced, how it ended):
    'complete', 'disconnect', 'timeout' or 'overflow' (nothing is fsynced for overflow).

    Writes run in a worker thread one batch behind the reads. Without a checksum to wait
    for, an fdatasync runs every CHECKPOINT_BYTES while the next bytes are written, and
    once it returns the offset it covers is recorded.
    """
    batch_limit = max(256 << 10, min(BATCH_BYTES, (64 << 20) // max(1, SLOTS.active)))
    written = 0  # bytes handed to write jobs
    batch: list[bytes] = []
    batch_len = 0
    pending: asyncio.Future[Any] | None = None
    syncing: asyncio.Future[Any] | None = None
    sync_mark = 0  # bytes covered by the fsync in flight
    recorded = 0  # bytes whose offset is in the database
    written_back = 0  # bytes whose writeback was started
    last_renew = time.monotonic()
    ended = "complete"

    async def flush() -> None:
        nonlocal pending, written, batch, batch_len, written_back
        if not batch:
            return
        if pending is not None:
            await pending
        writeback = None
        if written + batch_len - written_back >= WRITEBACK_BYTES:
            writeback = start + written_back
            written_back = written + batch_len
        pending = io(write_batch, fd, start + written, batch, hashers, writeback)
        written += batch_len
        batch, batch_len = [], 0

    async def renew(durable: int | None) -> None:
        nonlocal last_renew, recorded
        offset = start + durable if record_offsets and durable is not None else None
        if offset is not None and entry is not None:
            await entry.sync()
        if not await db(services.checkpoint, upload_id, lock.owner, offset):
            raise HTTPProblem(409, "this request lost its lock on the upload")
        if offset is not None:
            recorded = durable  # type: ignore[assignment]  # an offset means durable is set
        last_renew = time.monotonic()

    try:
        while True:
            try:
                async with asyncio.timeout(IDLE_TIMEOUT_S):
                    message = await request.receive()
            except TimeoutError:
                ended = "timeout"
                break
            if message["type"] == "http.disconnect":
                ended = "disconnect"
                break
            body = message.get("body", b"")
            if body:
                if written + batch_len + len(body) > limit:
                    ended = "overflow"
                    break
                batch.append(body)
                batch_len += len(body)
                if batch_len >= batch_limit:
                    await flush()
                    if record_offsets and written - sync_mark >= CHECKPOINT_BYTES:
                        await pending  # type: ignore[misc]  # flush() has just set it
                        pending = None
                        if syncing is not None:
                            await syncing
                            await renew(sync_mark)
                        syncing = io(os.fdatasync, fd)
                        sync_mark = written
                    elif time.monotonic() - last_renew > services.LOCK_RENEW_S:
                        await renew(None)
            if not message.get("more_body", False):
                break
        if ended == "overflow":
            if pending is not None:
                await pending
            return written, ended
        await flush()
        if pending is not None:
            await pending
        if syncing is not None:
            await syncing
        await io(os.fsync, fd)
    except OSError as exc:
        # A failed write or fsync: keep only what is already recorded as durable.
        for job in (pending, syncing):
            if job is not None and not job.done():
                await asyncio.wait([job])
        await io(rewind, fd, start + recorded)
        if exc.errno == errno.ENOSPC:
            raise HTTPProblem(
                507,
                f"the disk filled up; the offset is {start + recorded}",
                headers=[("Upload-Offset", str(start + recorded))],
            ) from exc
        raise
    return written, ended


def forget_hash(upload_id: str) -> None:
    _HASHES.pop(upload_id, None)


def cached_hash(upload_id: str, offset: int) -> str | None:
    entry = _HASHES.get(upload_id)
    if entry is not None and entry[0] == offset:
        digest: str = entry[1].hexdigest()  # a hashlib object
        return digest
    return None
