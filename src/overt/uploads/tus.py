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

This module is the protocol: routing, headers, creation, HEAD and PATCH. Beside it are
`tus_auth` (who is uploading), `tus_body` (a request's body into the upload's file, and
the answer it ends with) and `asgi_body` (I/O threads and slots, shared with Swift PUT).
The database work is the services' (`services`, `completion`, `sweep`); they refuse with
domain errors, which `asgi_http.as_problem` answers by the same mapping as every route.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from pathlib import Path

from overt.conf import get_settings
from overt.errors import DomainError
from overt.web.unavailable import DETAIL as DATABASE_DOWN
from overt.web.unavailable import RETRY_AFTER_S, database_unavailable

from . import completion, services, storage
from .asgi_body import SLOTS, db, db_long, io
from .asgi_http import (
    HTTPProblem,
    Receive,
    Request,
    Scope,
    Send,
    as_problem,
    respond,
    respond_problem,
)
from .models import Upload
from .tokens import Principal
from .tus_auth import authenticate
from .tus_body import (
    Lock,
    Outcome,
    cached_hash,
    forget_hash,
    http_date,
    outcome_for,
    receive_body,
)
from .tusmeta import CHECKSUM_ALGORITHMS, byte_count, parse_checksum, parse_metadata

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
OFFSET_TYPE = "application/offset+octet-stream"
PREFIX = "/files"
ID_RE = re.compile(r"^[0-9a-f]{32}$")


BASE_HEADERS = [("Tus-Resumable", TUS_VERSION)]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request.from_scope(scope, receive, send)
    head = request.method == "HEAD"
    try:
        await _dispatch(request)
    except (HTTPProblem, DomainError) as exc:  # a service's refusal, by the one mapping
        await respond_problem(send, exc, BASE_HEADERS, head=head)
    except Exception as exc:
        if database_unavailable(exc):  # restarting or failed over: come back, not a 500
            log.warning(
                "tus request %s %s: database unavailable: %s", request.method, request.path, exc
            )
            retry = [("Retry-After", str(RETRY_AFTER_S))]
            await respond_problem(
                send, HTTPProblem(503, DATABASE_DOWN, headers=retry), BASE_HEADERS, head=head
            )
            return
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
        principal = await authenticate(request)
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
    principal = await authenticate(request)
    if method == "HEAD":
        await _head(request, principal, upload_id)
    elif method == "PATCH":
        await _patch(request, principal, upload_id)
    else:
        await db(services.terminate, upload_id, principal)
        forget_hash(upload_id)
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
        await io(_new_file, path)
        try:
            upload = await db(services.insert_upload, upload_id, fields, request.client_address)
        except BaseException:
            await io(storage.remove, path)
            raise
        await db(_schedule_expiry)
        headers = [
            *BASE_HEADERS,
            ("Location", f"{PREFIX}/{upload.id}"),
            ("Upload-Expires", http_date(upload.expires_at)),
        ]
        if with_body or length == 0:
            lock = Lock(services.new_lock_owner())
            try:
                upload = await db(services.acquire, upload.id, principal, lock.owner)
                outcome = await receive_body(request, upload, principal, lock, checksum)
            except (HTTPProblem, DomainError) as exc:
                problem = as_problem(exc)
                problem.headers.append(("Location", f"{PREFIX}/{upload_id}"))  # to resume
                if problem is exc:
                    raise
                raise problem from exc
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
                    completion.finish, upload_id, owner, cached_hash(upload_id, upload.length)
                )
        except DomainError:
            pass  # the answer below says where the upload stands
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
        headers.append(("Upload-Expires", http_date(upload.expires_at)))
    outcome = await db(outcome_for, upload)
    await respond(request.send, 200, [*headers, *outcome.headers], head=True)


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
            outcome = await receive_body(request, upload, principal, lock, checksum)
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
    outcome = await db(outcome_for, upload)
    outcome.headers.append(("Upload-Offset", str(upload.length)))
    await _send_outcome(request, outcome, [*BASE_HEADERS])


async def _send_outcome(
    request: Request,
    outcome: Outcome,
    headers: list[tuple[str, str]],
    status: int | None = None,
) -> None:
    if outcome.problem is not None:
        problem = outcome.problem
        problem.headers = [*outcome.headers, *problem.headers]
        await respond_problem(request.send, problem, headers)
        return
    await respond(request.send, status or outcome.status, [*headers, *outcome.headers])
