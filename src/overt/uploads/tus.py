"""The tus 1.0.0 server at /files/, as a raw ASGI app.

Why raw ASGI and not a Django view: Django's ASGI handler reads the whole request body
into a temporary file before any view runs, so a 1 GiB PATCH would be written twice and
nothing would be durable (or counted in the offset) until the last byte arrived. Here
each body chunk from the server goes straight to the upload file: written and hashed in
a worker thread while the event loop reads the next one, fsynced at checkpoints, and the
offset in the database only ever counts fsynced bytes. Database work (tokens, locks,
offsets, custody, ingest) runs in threads through asgiref's `sync_to_async`.

Extensions: creation, creation-with-upload, termination, expiration, checksum (sha256,
sha1). Headers overt adds to responses: Overt-Upload-Status, Overt-Sha256,
Overt-Original and Overt-Recording once an upload has been catalogued.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import hashlib
import logging
import os
import re
import secrets
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async

from overt.conf import get_settings

from . import services, storage
from .asgi_http import HTTPProblem, Receive, Request, Scope, Send, respond, respond_problem
from .models import Upload
from .tokens import Principal, device_for_token
from .tusmeta import CHECKSUM_ALGORITHMS, Checksum, byte_count, parse_checksum, parse_metadata

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_TYPE = "application/offset+octet-stream"
PREFIX = "/files"
ID_RE = re.compile(r"^[0-9a-f]{32}$")
BATCH_BYTES = 1 << 20  # body chunks are gathered to this size before a write
CHECKPOINT_BYTES = 64 << 20  # without a checksum, fsync and record the offset this often
WRITEBACK_BYTES = 16 << 20  # start the disk writing what arrived, this often
IDLE_TIMEOUT_S = 30.0  # the protocol's recommended network timeout
HASH_CACHE_SIZE = 4096

IO_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="overt-upload-io")
# Running SHA-256 of each upload's durable bytes, so completion needs no second read.
# Lost on restart (or on another node): then it is recomputed from the file.
_HASHES: OrderedDict[str, tuple[int, Any]] = OrderedDict()

# Tests serialise all database work onto one thread (SQLite in memory); the server
# gives the long completion step (ingest) a thread of its own.
FINISH_IN_OWN_THREAD = True


class Slots:
    """Requests carrying upload bytes in this process, against OVERT_UPLOAD_MAX_CONCURRENT."""

    def __init__(self) -> None:
        self.active = 0

    def take(self) -> None:
        limit = get_settings().upload_max_concurrent
        if self.active >= limit:
            raise HTTPProblem(
                503,
                f"{self.active} uploads are in progress, the most this server takes at once; "
                "retry shortly",
                headers=[("Retry-After", str(services.RETRY_AFTER_S))],
            )
        self.active += 1

    def give(self) -> None:
        self.active -= 1


SLOTS = Slots()


def db(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return sync_to_async(fn, thread_sensitive=True)(*args, **kwargs)


def db_long(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return sync_to_async(fn, thread_sensitive=not FINISH_IN_OWN_THREAD)(*args, **kwargs)


def _io(fn: Any, *args: Any) -> asyncio.Future:
    return asyncio.get_running_loop().run_in_executor(IO_POOL, fn, *args)


BASE_HEADERS = [("Tus-Resumable", TUS_VERSION)]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request.from_scope(scope, receive, send)
    head = request.method == "HEAD"
    try:
        await _dispatch(request)
    except HTTPProblem as exc:
        await respond_problem(send, exc, BASE_HEADERS, head=head)
    except Exception:
        log.exception("tus request %s %s failed", request.method, request.path)
        await respond_problem(
            send,
            HTTPProblem(500, "the server failed; the upload's offset is unchanged"),
            BASE_HEADERS,
            head=head,
        )


async def _dispatch(request: Request) -> None:
    method = (request.header("x-http-method-override") or request.method).upper()
    if method == "OPTIONS":
        await _options(request)
        return
    if request.header("tus-resumable") != TUS_VERSION:
        raise HTTPProblem(
            412,
            f"send Tus-Resumable: {TUS_VERSION} (this server speaks tus {TUS_VERSION})",
            headers=[("Tus-Version", TUS_VERSION)],
        )
    rest = request.path[len(PREFIX) :]
    if rest in ("", "/"):
        if method != "POST":
            raise HTTPProblem(
                405, "POST here creates an upload", headers=[("Allow", "POST, OPTIONS")]
            )
        principal = await _authenticate(request)
        await _create(request, principal)
        return
    upload_id = rest.lstrip("/")
    if not ID_RE.match(upload_id):
        raise HTTPProblem(404, "no such upload")
    if method not in ("HEAD", "PATCH", "DELETE"):
        raise HTTPProblem(
            405,
            f"{method} is not allowed on an upload",
            headers=[("Allow", "HEAD, PATCH, DELETE, OPTIONS")],
        )
    principal = await _authenticate(request)
    if method == "HEAD":
        await _head(request, principal, upload_id)
    elif method == "PATCH":
        await _patch(request, principal, upload_id)
    else:
        await db(services.terminate, upload_id, principal)
        _HASHES.pop(upload_id, None)
        await respond(request.send, 204, BASE_HEADERS)


async def _options(request: Request) -> None:
    await respond(
        request.send,
        204,
        [
            *BASE_HEADERS,
            ("Tus-Version", TUS_VERSION),
            ("Tus-Extension", EXTENSIONS),
            ("Tus-Max-Size", str(get_settings().upload_max_bytes)),
            ("Tus-Checksum-Algorithm", ",".join(sorted(CHECKSUM_ALGORITHMS))),
        ],
    )


# --- who is uploading ---------------------------------------------------------------------


async def _authenticate(request: Request) -> Principal:
    authorization = request.single("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("use Authorization: Bearer <device token>")
        principal = await db(device_for_token, token.strip())
        if principal is None:
            raise _unauthorized("unknown or revoked device token")
        return principal
    if request.header("cookie"):
        origin = request.header("origin")
        if origin and urlsplit(origin).netloc != request.header("host"):
            raise HTTPProblem(403, "cross-origin uploads are not accepted")
        principal = await db(_user_from_session, request.scope)
        if principal is not None:
            return principal
    raise _unauthorized("send Authorization: Bearer <device token>, or sign in to upload")


def _unauthorized(detail: str) -> HTTPProblem:
    return HTTPProblem(401, detail, headers=[("WWW-Authenticate", 'Bearer realm="overt"')])


_SESSION_CHAIN: Any = None


def _user_from_session(scope: Scope) -> Principal | None:
    """The signed-in user of this request's session, judged by Django's own middleware
    (sessions, authentication, second factor, idle and lifetime limits) exactly as for a
    page; None when there is none."""
    global _SESSION_CHAIN
    from io import BytesIO

    from django.conf import settings
    from django.core.exceptions import DisallowedHost
    from django.core.handlers.asgi import ASGIRequest
    from django.http import HttpResponse
    from django.utils.module_loading import import_string

    from .views import may_upload

    if _SESSION_CHAIN is None:
        chain: Any = lambda request: HttpResponse()  # noqa: E731
        for path in reversed(settings.MIDDLEWARE):
            chain = import_string(path)(chain)
        _SESSION_CHAIN = chain
    request = ASGIRequest({**scope, "method": "GET"}, BytesIO())
    try:
        _SESSION_CHAIN(request)
    except DisallowedHost as exc:
        raise HTTPProblem(400, "this host name is not served here") from exc
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not may_upload(user):
        raise HTTPProblem(403, "this account may not upload evidence")
    return Principal("user", user.get_username())


# --- creation ------------------------------------------------------------------------------


async def _create(request: Request, principal: Principal) -> None:
    if request.single("upload-defer-length") is not None:
        raise HTTPProblem(400, "deferred lengths are not supported; send Upload-Length")
    if request.header("upload-concat") is not None:
        raise HTTPProblem(400, "concatenation is not supported")
    length = byte_count(request.single("upload-length"), "Upload-Length")
    if length is None:
        raise HTTPProblem(400, "Upload-Length is required")
    meta = parse_metadata(request.single("upload-metadata"))
    with_body = request.has_body
    checksum = None
    if with_body:
        _check_content_type(request)
        checksum = parse_checksum(request.single("upload-checksum"))
        content_length = request.content_length
        if content_length is not None and content_length > length:
            raise HTTPProblem(413, "the body is longer than Upload-Length")
        SLOTS.take()
    try:
        fields = await db(services.prepare_upload, principal, meta, length)
        upload_id = secrets.token_hex(16)
        path = storage.tus_path(upload_id)
        await _io(_new_file, path)
        try:
            upload = await db(services.insert_upload, upload_id, fields, request.client_address)
        except BaseException:
            await _io(storage.remove, path)
            raise
        await db(_schedule_expiry)
        headers = [
            *BASE_HEADERS,
            ("Location", f"{PREFIX}/{upload.id}"),
            ("Upload-Expires", services.http_date(upload.expires_at)),
        ]
        if with_body or length == 0:
            lock = Lock(services.new_lock_owner())
            try:
                upload = await db(services.acquire, upload.id, principal, lock.owner)
                outcome = await _receive(request, upload, principal, lock, checksum)
            except HTTPProblem as exc:
                exc.headers.append(("Location", f"{PREFIX}/{upload_id}"))  # to resume
                raise
            finally:
                await lock.release(upload_id)
            status = 201 if outcome.status == 204 else outcome.status
            await _send_outcome(request, outcome, headers, status)
            return
        await respond(request.send, 201, [*headers, ("Upload-Offset", "0")])
    finally:
        if with_body:
            SLOTS.give()


def _new_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


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


def _schedule_expiry() -> None:
    from .jobs import ensure_expiry_scheduled

    ensure_expiry_scheduled()


def _check_content_type(request: Request) -> None:
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != OFFSET_TYPE:
        raise HTTPProblem(415, f"upload bytes must be sent as Content-Type: {OFFSET_TYPE}")


# --- HEAD --------------------------------------------------------------------------------


async def _head(request: Request, principal: Principal, upload_id: str) -> None:
    upload = await db(services.get_owned, upload_id, principal)
    if upload.status == Upload.Status.RECEIVING and upload.complete and not upload.lock_owner:
        # Every byte arrived but the upload was never finished (the server stopped in
        # between): finish it now, so the client learns how it ended.
        owner = services.new_lock_owner()
        try:
            upload = await db(services.acquire, upload_id, principal, owner)
            if upload.status == Upload.Status.RECEIVING:
                await db_long(
                    services.finish, upload_id, owner, _cached_hash(upload_id, upload.length)
                )
        except HTTPProblem:
            pass
        finally:
            await db(services.release, upload_id, owner)
        upload = await db(services.get_owned, upload_id, principal)
    headers = [
        *BASE_HEADERS,
        ("Upload-Offset", str(upload.offset)),
        ("Upload-Length", str(upload.length)),
        ("Cache-Control", "no-store"),
    ]
    if upload.metadata_header:
        headers.append(("Upload-Metadata", upload.metadata_header))
    if upload.status == Upload.Status.RECEIVING:
        headers.append(("Upload-Expires", services.http_date(upload.expires_at)))
    outcome = await db(services.outcome_for, upload)
    await respond(request.send, 200, [*headers, *outcome.headers], head=True)


def _cached_hash(upload_id: str, offset: int) -> str | None:
    entry = _HASHES.get(upload_id)
    if entry is not None and entry[0] == offset:
        return entry[1].hexdigest()
    return None


# --- PATCH -------------------------------------------------------------------------------


async def _patch(request: Request, principal: Principal, upload_id: str) -> None:
    _check_content_type(request)
    offset = byte_count(request.single("upload-offset"), "Upload-Offset")
    if offset is None:
        raise HTTPProblem(400, "Upload-Offset is required")
    checksum = parse_checksum(request.single("upload-checksum"))
    content_length = request.content_length
    SLOTS.take()
    try:
        lock = Lock(services.new_lock_owner())
        upload = await db(services.acquire, upload_id, principal, lock.owner)
        try:
            if upload.status != Upload.Status.RECEIVING:
                await _patch_finished(request, upload, offset, content_length)
                return
            if offset != upload.offset:
                raise HTTPProblem(
                    409,
                    f"Upload-Offset {offset} does not match the upload's offset {upload.offset}",
                    headers=[("Upload-Offset", str(upload.offset))],
                    offset=upload.offset,
                )
            remaining = upload.length - upload.offset
            if content_length is not None and content_length > remaining:
                raise HTTPProblem(
                    413,
                    f"this PATCH carries {content_length} bytes but only {remaining} remain "
                    f"of Upload-Length {upload.length}",
                )
            if request.has_body:
                await db(services.check_space, 0)
            outcome = await _receive(request, upload, principal, lock, checksum)
            await _send_outcome(request, outcome, [*BASE_HEADERS])
        finally:
            await lock.release(upload_id)
    finally:
        SLOTS.give()


async def _patch_finished(
    request: Request, upload: Upload, offset: int, content_length: int | None
) -> None:
    if offset != upload.length:
        raise HTTPProblem(
            409,
            f"the upload is complete at offset {upload.length}",
            headers=[("Upload-Offset", str(upload.length))],
        )
    if request.has_body:
        raise HTTPProblem(413, "the upload is already complete")
    outcome = await db(services.outcome_for, upload)
    outcome.headers.append(("Upload-Offset", str(upload.length)))
    await _send_outcome(request, outcome, [*BASE_HEADERS])


async def _send_outcome(
    request: Request,
    outcome: services.Outcome,
    headers: list[tuple[str, str]],
    status: int | None = None,
) -> None:
    if outcome.problem is not None:
        problem = outcome.problem
        problem.headers = [*outcome.headers, *problem.headers]
        await respond_problem(request.send, problem, headers)
        return
    await respond(request.send, status or outcome.status, [*headers, *outcome.headers])


class _Gone(Exception):
    """The client went away or fell silent mid-body."""


async def _receive(
    request: Request,
    upload: Upload,
    principal: Principal,
    lock: Lock,
    checksum: Checksum | None,
) -> services.Outcome:
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
        running = await _running_hash(upload_id, start, path)
        base = running.copy() if checksum else None
        shared = checksum is not None and checksum.algorithm == "sha256" and start == 0
        chunk_hash = checksum.new() if checksum and not shared else None
        hashers = [running] if chunk_hash is None else [running, chunk_hash]
        # A new file's directory entry must be durable before any offset counts on it.
        entry = _DirEntry(path.parent) if start == 0 else None
        try:
            written, ended = await _pump(
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
            await _io(_rewind, fd, start)
            _HASHES.pop(upload_id, None)
            raise HTTPProblem(413, f"the body runs past Upload-Length {upload.length}")
        if checksum is not None:
            if ended != "complete":
                await _io(_rewind, fd, start)
                _remember(upload_id, start, base)
                raise HTTPProblem(
                    408 if ended == "timeout" else 400,
                    "the chunk ended early, so its checksum cannot be verified; it was "
                    f"discarded and the offset stays {start}",
                )
            actual = (running if shared else chunk_hash).digest()  # type: ignore[union-attr]
            if actual != checksum.digest:
                await db(
                    services.quarantine_chunk,
                    upload,
                    principal,
                    fd,
                    start,
                    written,
                    checksum.algorithm,
                    base64.b64encode(checksum.digest).decode(),
                    base64.b64encode(actual).decode(),
                )
                await _io(_rewind, fd, start)
                _remember(upload_id, start, base)
                raise HTTPProblem(
                    460,
                    f"the chunk does not match its Upload-Checksum ({checksum.algorithm}); "
                    f"it was kept in quarantine, not added, and the offset stays {start}",
                    headers=[("Upload-Offset", str(start))],
                    offset=start,
                )
        if entry is not None and written:
            await entry.sync()
        _remember(upload_id, end, running)
        if end == upload.length:
            lock.held = False  # finish() releases it with the outcome
            try:
                outcome = await db_long(
                    services.finish, upload_id, lock.owner, running.hexdigest(), end
                )
            except BaseException:
                # Whatever failed, the bytes are durable: record them, free the lock.
                await db(services.release, upload_id, lock.owner, end)
                raise
            _HASHES.pop(upload_id, None)
            outcome.headers.append(("Upload-Offset", str(end)))
            return outcome
        current = await lock.release(upload_id, end)
        expires = [("Upload-Expires", services.http_date(current.expires_at))] if current else []
        if ended == "timeout":
            raise HTTPProblem(
                408,
                f"no bytes for {IDLE_TIMEOUT_S:.0f} s; kept {written}, offset is {end}",
                headers=[("Upload-Offset", str(end)), *expires],
            )
        return services.Outcome(204, [("Upload-Offset", str(end)), *expires])
    finally:
        os.close(fd)


class _DirEntry:
    """fsync a directory once, the first time a new file's bytes are to count."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.done = False

    async def sync(self) -> None:
        if not self.done:
            await _io(storage.fsync_dir, self.folder)
            self.done = True


async def _running_hash(upload_id: str, offset: int, path: Any) -> Any:
    entry = _HASHES.pop(upload_id, None)
    if entry is not None and entry[0] == offset:
        return entry[1]
    if offset == 0:
        return hashlib.sha256()
    return await _io(storage.hash_file, path, offset)


def _remember(upload_id: str, offset: int, state: Any) -> None:
    _HASHES[upload_id] = (offset, state)
    _HASHES.move_to_end(upload_id)
    while len(_HASHES) > HASH_CACHE_SIZE:
        _HASHES.popitem(last=False)


def _write(
    fd: int, position: int, chunks: list[bytes], hashers: list[Any], writeback_from: int | None
) -> None:
    for hasher in hashers:
        for chunk in chunks:
            hasher.update(chunk)
    total = sum(len(c) for c in chunks)
    done = os.pwritev(fd, chunks, position)
    if done < total:  # a short write (rare on files): finish the rest plainly
        rest = memoryview(b"".join(chunks))[done:]
        while rest:
            n = os.pwrite(fd, rest, position + done)
            done += n
            rest = rest[n:]
    if writeback_from is not None:
        # Start writing these pages to disk now, so the disk works while more arrives and
        # the next fsync has little left to wait for (DONTNEED on dirty pages starts
        # their writeback without waiting). The fsyncs still decide durability.
        end = position + total
        os.posix_fadvise(fd, writeback_from, end - writeback_from, os.POSIX_FADV_DONTNEED)


def _rewind(fd: int, offset: int) -> None:
    os.ftruncate(fd, offset)
    os.fsync(fd)


async def _pump(
    request: Request,
    fd: int,
    start: int,
    limit: int,
    hashers: list[Any],
    upload_id: str,
    lock: Lock,
    *,
    record_offsets: bool,
    entry: _DirEntry | None,
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
    pending: asyncio.Future | None = None
    syncing: asyncio.Future | None = None
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
        pending = _io(_write, fd, start + written, batch, hashers, writeback)
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
            recorded = durable  # type: ignore[assignment]
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
                        await pending  # type: ignore[misc]
                        pending = None
                        if syncing is not None:
                            await syncing
                            await renew(sync_mark)
                        syncing = _io(os.fdatasync, fd)
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
        await _io(os.fsync, fd)
    except OSError as exc:
        # A failed write or fsync: keep only what is already recorded as durable.
        for job in (pending, syncing):
            if job is not None and not job.done():
                await asyncio.wait([job])
        await _io(_rewind, fd, start + recorded)
        if exc.errno == errno.ENOSPC:
            raise HTTPProblem(
                507,
                f"the disk filled up; the offset is {start + recorded}",
                headers=[("Upload-Offset", str(start + recorded))],
            ) from exc
        raise
    return written, ended
