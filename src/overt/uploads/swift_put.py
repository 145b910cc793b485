"""Swift object PUT (`/swift/v1/<account>/<container>/<object>`) as a raw ASGI handler, so a
clip from an Axis Body Worn System streams to its staging file (MD5 and SHA-256 computed
on the way) instead of being spooled by Django first. Everything else about the object
is decided in `overt.uploads.axis.objects`."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
from typing import Any

from overt.conf import get_settings
from overt.custody.services import Actor
from overt.errors import DomainError

from . import services, storage, swift_names
from .asgi_body import BATCH_BYTES, IDLE_TIMEOUT_S, SLOTS, db, db_long, io, write_batch
from .asgi_http import HTTPProblem, Receive, Request, Scope, Send, respond, respond_problem
from .axis import metadata, objects, protocol

log = logging.getLogger(__name__)

PREFIX = "/swift/v1/"


def split(path: str) -> list[str]:
    return path[len(PREFIX) :].split("/", 2) if path.startswith(PREFIX) else []


def is_object_path(path: str) -> bool:
    parts = split(path)
    return len(parts) == 3 and parts[2] != ""


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request.from_scope(scope, receive, send)
    try:
        await _put(request)
    except (HTTPProblem, DomainError) as exc:  # a service's refusal, by the one mapping
        await respond_problem(send, exc)
    except Exception:
        log.exception("Swift PUT %s failed", request.path)
        await respond_problem(send, HTTPProblem(500, "the server failed; nothing was stored"))


async def _put(request: Request) -> None:
    swift_names.check_raw_path(request.scope.get("raw_path"))
    account, container_name, name = split(request.path)
    token = request.header("x-auth-token") or request.header("x-storage-token")
    await db(protocol.check_token, token, account)
    meta = metadata.parse_meta(request.headers, "x-object-meta-")
    container, kind = await db(objects.open_for_put, container_name, name, meta)
    length = request.content_length
    limit = get_settings().upload_max_bytes
    if length is not None and length > limit:
        raise HTTPProblem(413, f"objects may be at most {limit} bytes")
    await db(services.check_space, length or 0)
    serial = container.metadata.get("bwcserialnumber")
    actor = Actor("device", serial) if serial else Actor.system("axis")
    SLOTS.take()
    try:
        staged = storage.folder("axis") / f"{secrets.token_hex(16)}.part"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                md5 = hashlib.md5(usedforsecurity=False)
                sha256 = hashlib.sha256()
                written, ended = await _stream(request, fd, limit, [md5, sha256])
                if ended != "complete" or (length is not None and written != length):
                    raise _Incomplete(ended)
                await io(os.fsync, fd)
            finally:
                os.close(fd)
            storage.fsync_dir(staged.parent)
        except BaseException:
            storage.remove(staged)
            raise
        # From here put_object owns the staged file: it keeps it (in a row or quarantine)
        # or removes it, even when this request is cancelled while it runs.
        status = await db_long(
            objects.put_object,
            container,
            name,
            kind,
            meta,
            staged,
            written,
            md5.hexdigest(),
            sha256.hexdigest(),
            request.header("etag"),
            actor,
        )
    except _Incomplete as exc:
        raise HTTPProblem(
            413 if exc.ended == "overflow" else 400,
            f"the object body was incomplete ({exc.ended}); nothing was stored",
        ) from None
    finally:
        SLOTS.give()
    await respond(request.send, status, [("ETag", md5.hexdigest())])


class _Incomplete(Exception):
    def __init__(self, ended: str) -> None:
        super().__init__(ended)
        self.ended = ended


async def _stream(request: Request, fd: int, limit: int, hashers: list[Any]) -> tuple[int, str]:
    written = 0
    batch: list[bytes] = []
    batch_len = 0
    pending: asyncio.Future[Any] | None = None
    while True:
        try:
            async with asyncio.timeout(IDLE_TIMEOUT_S):
                message = await request.receive()
        except TimeoutError:
            return written, "timeout"
        if message["type"] == "http.disconnect":
            if pending is not None:
                await pending
            return written, "disconnect"
        body = message.get("body", b"")
        if body:
            if written + batch_len + len(body) > limit:
                if pending is not None:
                    await pending
                return written, "overflow"
            batch.append(body)
            batch_len += len(body)
        more = message.get("more_body", False)
        if batch and (batch_len >= BATCH_BYTES or not more):
            if pending is not None:
                await pending
            pending = io(write_batch, fd, written, batch, hashers, None)
            written += batch_len
            batch, batch_len = [], 0
        if not more:
            break
    if pending is not None:
        await pending
    return written, "complete"
