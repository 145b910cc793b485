"""Swift objects: checks before a PUT's first byte is read, keeping an object once its
bytes are staged (clips as files, everything else in the database), POST of metadata,
and GET/HEAD of what was kept (a staged clip, or the evidence store's copy)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.db import transaction

from overt.custody.services import Actor, Subject, record
from overt.errors import Conflict, Invalid, NotFound, Refused, TooLarge
from overt.evidence.models import Original
from overt.evidence.store import ObjectNotFound, StoreError, get_store
from overt.evidence.store.base import CHUNK_SIZE

from .. import storage
from ..errors import BytesMissing, EtagMismatch, StoreUnavailable
from ..models import AxisContainer, AxisObject, Quarantined
from . import metadata, people
from .containers import put_container
from .protocol import (
    CAPABILITY_NAMES,
    DEVICES,
    SYSTEM,
    USERS,
    Stream,
    capability_json,
    container_name,
    content_type,
    object_name,
)

log = logging.getLogger(__name__)

MAX_SMALL_OBJECT = 16 << 20  # bookmarks, GNSS tracks and the like are kept in the database
CLIP_SUFFIXES = (".mkv", ".mp4")


def classify(container: AxisContainer, name: str, meta: dict[str, str]) -> str:
    if container.kind == AxisContainer.Kind.SYSTEM:
        if name in CAPABILITY_NAMES:
            raise Refused(f"{name} is published by overt and cannot be replaced")
        return AxisObject.Kind.SYSTEM
    if container.kind == AxisContainer.Kind.USERS:
        return AxisObject.Kind.USER
    if container.kind == AxisContainer.Kind.DEVICES:
        return AxisObject.Kind.DEVICE
    lower = name.lower()
    if lower.endswith(".key"):
        raise Invalid(
            "end-to-end encrypted recordings (WantEncryption) are not supported yet; "
            "turn encryption off in the Body Worn Manager for this content destination",
        )
    if lower.endswith(CLIP_SUFFIXES) or meta.get("containertype", "").lower() in ("mkv", "mp4"):
        return AxisObject.Kind.CLIP
    if lower.startswith("bookmark_"):
        return AxisObject.Kind.BOOKMARK
    if lower.endswith("_gpstrail.json") or meta.get("filetype", "").lower() == "json":
        return AxisObject.Kind.GNSS
    return AxisObject.Kind.OTHER


def open_for_put(
    container_name_: str, name: str, meta: dict[str, str]
) -> tuple[AxisContainer, str]:
    """Checks before any byte of an object PUT is read: the container exists and is
    open, the name is acceptable, the metadata makes sense. Returns the container and
    the object's kind."""
    name = object_name(name)
    if (
        container_name_ in (SYSTEM, USERS, DEVICES)
        and not AxisContainer.objects.filter(name=container_name_).exists()
    ):
        put_container(container_name_, {})
    container = AxisContainer.objects.filter(name=container_name(container_name_)).first()
    if container is None:
        raise NotFound(f"no container {container_name_!r}: create it first")
    kind = classify(container, name, meta)
    metadata.check_object_times(kind, name, meta)
    if kind == AxisObject.Kind.USER:
        people.check_user(name, meta)
    if kind == AxisObject.Kind.DEVICE:
        people.check_device(name, meta)
    return container, kind


def small(kind: str) -> bool:
    return kind != AxisObject.Kind.CLIP


def put_object(
    container: AxisContainer,
    name: str,
    kind: str,
    meta: dict[str, str],
    staged: Path,
    size: int,
    md5: str,
    sha256: str,
    etag: str | None,
    actor: Actor,
) -> int:
    """Keep an object whose bytes are in `staged` (fsynced). Returns 201.

    A sent ETag that does not match keeps the bytes in quarantine and answers 422. Any
    other failure removes the staged file (the sender still has the bytes and retries),
    so a failed request leaves nothing in axis/ that no object row names.
    """
    try:
        return _put_object(container, name, kind, meta, staged, size, md5, sha256, etag, actor)
    except BaseException:
        _unstage(staged)
        raise


def _unstage(staged: Path) -> None:
    """Remove a failed request's staged file, unless a committed object row holds it (then
    it is that object's bytes, not a leftover)."""
    try:
        held = AxisObject.objects.filter(staged_path=str(staged)).exists()
    except Exception:  # the database fails too: keep the bytes rather than guess
        log.exception("could not tell whether %s is held; it is kept", staged)
        return
    if not held:
        storage.remove(staged)


def _put_object(
    container: AxisContainer,
    name: str,
    kind: str,
    meta: dict[str, str],
    staged: Path,
    size: int,
    md5: str,
    sha256: str,
    etag: str | None,
    actor: Actor,
) -> int:
    if etag is not None and etag.strip('"').lower() != md5:
        _quarantine_mismatch(container, name, staged, size, md5, sha256, etag, actor)
    content = None
    if small(kind):
        if size > MAX_SMALL_OBJECT:
            raise TooLarge(f"{kind} objects may be at most {MAX_SMALL_OBJECT} bytes")
        content = staged.read_bytes()
        if kind == AxisObject.Kind.BOOKMARK:
            metadata.bookmark_text(content, name)
        if kind == AxisObject.Kind.GNSS:
            metadata.gnss_track(content, name)
    with transaction.atomic():
        container = AxisContainer.objects.select_for_update().get(pk=container.pk)
        existing = AxisObject.objects.filter(container=container, name=name).first()
        if container.status != AxisContainer.Status.OPEN:
            storage.remove(staged)
            if existing is not None and existing.md5 == md5:
                return 201  # a retry of what the recording already has
            raise Conflict("the recording is complete; its objects cannot change")
        replaced = None
        if existing is None:
            existing = AxisObject(container=container, name=name, kind=kind)
        elif existing.staged_path and existing.md5 != md5:
            replaced = Path(existing.staged_path)
        elif existing.staged_path:
            storage.remove(staged)  # the same bytes again
            staged = Path(existing.staged_path)
        existing.kind = kind
        existing.metadata = meta
        existing.size = size
        existing.md5 = md5
        existing.sha256 = sha256
        existing.content = content
        existing.staged_path = "" if content is not None else str(staged)
        if kind == AxisObject.Kind.USER:
            existing.officer = people.sync_user(name, meta)
        if kind == AxisObject.Kind.DEVICE:
            existing.device = people.sync_device(name, meta)
        existing.save()
        if replaced is not None and replaced.exists():
            _keep_replaced(replaced, existing, actor)
    if content is not None:
        storage.remove(staged)
    return 201


def _quarantine_mismatch(
    container: AxisContainer,
    name: str,
    staged: Path,
    size: int,
    md5: str,
    sha256: str,
    etag: str,
    actor: Actor,
) -> None:
    """The body is not what the ETag said: keep it in quarantine, with its custody entry,
    and answer 422."""
    dest = storage.quarantine(staged, f"axis-{secrets.token_hex(8)}.bin")
    with transaction.atomic():
        Quarantined.objects.create(
            reason=Quarantined.Reason.OBJECT_ETAG,
            path=str(dest),
            size=size,
            sha256=sha256,
            expected=f"md5 {etag}",
            actual=f"md5 {md5}",
            axis_object=f"{container.name}/{name}",
            principal=str(actor),
        )
        record(
            "verify",
            actor,
            Subject(sha256, {"axis_object": f"{container.name}/{name}"}),
            details={
                "ok": False,
                "what": "Swift object",
                "check": "ETag (MD5)",
                "expected": etag,
                "actual": md5,
                "size": size,
                "quarantined": str(dest),
            },
        )
    raise EtagMismatch(
        f"the body's MD5 is {md5}, not the ETag sent ({etag}); the bytes are kept in "
        "quarantine and the object was not stored",
    )


def _keep_replaced(path: Path, obj: AxisObject, actor: Actor) -> None:
    """An object replaced before completion: the earlier bytes stay, in quarantine."""
    digest = storage.hash_file(path).hexdigest()
    dest = storage.quarantine(path, f"axis-replaced-{secrets.token_hex(8)}.bin")
    Quarantined.objects.create(
        reason=Quarantined.Reason.REPLACED,
        path=str(dest),
        size=dest.stat().st_size,
        sha256=digest,
        expected="",
        actual=f"sha256 {digest}",
        axis_object=f"{obj.container.name}/{obj.name}",
        principal=str(actor),
    )


def post_object(container_name_: str, name: str, meta: dict[str, str]) -> int:
    with transaction.atomic():
        obj = _get_object(container_name_, name)
        if obj.container.status != AxisContainer.Status.OPEN:
            return 202
        metadata.check_object_times(obj.kind, name, meta)
        if obj.kind == AxisObject.Kind.USER:
            people.check_user(name, meta)
            obj.officer = people.sync_user(name, meta)
        if obj.kind == AxisObject.Kind.DEVICE:
            people.check_device(name, meta)
            obj.device = people.sync_device(name, meta)
        obj.metadata = meta  # Swift: POST replaces an object's metadata
        obj.save()
    return 202


def _get_object(container_name_: str, name: str) -> AxisObject:
    obj = (
        AxisObject.objects.select_related("container")
        .filter(container__name=container_name_, name=name)
        .first()
    )
    if obj is None:
        raise NotFound(f"no object {container_name_}/{name}")
    return obj


def get_object(container_name_: str, name: str) -> tuple[dict[str, str], str, bytes | Stream, str]:
    """(metadata, md5, content or a stream of it, content type) of an object."""
    if container_name_ == SYSTEM and name in CAPABILITY_NAMES:
        content = capability_json()
        return (
            {},
            hashlib.md5(content, usedforsecurity=False).hexdigest(),
            content,
            ("application/json"),
        )
    obj = _get_object(container_name_, name)
    body: bytes | Stream
    if obj.content is not None:
        body = bytes(obj.content)
    elif obj.staged_path and Path(obj.staged_path).exists():
        staged = Path(obj.staged_path)
        body = Stream(staged.stat().st_size, lambda: _file_chunks(staged))
    elif obj.original_id:
        body = _stored(Original.objects.values_list("sha256", flat=True).get(pk=obj.original_id))
    else:
        body = b""
    return obj.metadata, obj.md5, body, content_type(obj)


def _file_chunks(path: Path) -> Iterator[bytes]:
    try:
        fh = open(path, "rb", buffering=0)  # here, so a failure comes before any header
    except FileNotFoundError as exc:  # ingested (and unstaged) since it was looked up
        raise StoreUnavailable("the object was stored just now; retry", retry_after=1) from exc
    return _read_chunks(fh)


def _read_chunks(fh: BinaryIO) -> Iterator[bytes]:
    with fh:
        while chunk := fh.read(CHUNK_SIZE):
            yield chunk


def _stored(sha256: str) -> Stream:
    store = get_store()

    def open_() -> Iterator[bytes]:
        with _store_errors():
            return store.read_range(sha256)  # S3: the GET is made here, the body read lazily

    with _store_errors():
        return Stream(store.size(sha256), open_)


@contextmanager
def _store_errors() -> Iterator[None]:
    try:
        yield
    except ObjectNotFound as exc:
        raise BytesMissing(
            f"the object's bytes are missing from the evidence store: {exc}"
        ) from exc
    except StoreError as exc:
        raise StoreUnavailable(f"the evidence store failed ({exc}); retry", retry_after=30) from exc
