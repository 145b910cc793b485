"""An Axis Body Worn System content destination: the Swift subset that the Body Worn
Integration API uses, mapped onto overt's officers, devices and recordings.

- `GET /auth/v1.0` with X-Auth-User and X-Auth-Key gives a token and the storage URL,
  `/swift/v1/AUTH_<user>`.
- `System` holds `Capabilities.json` (served by overt, with an MD5 ETag) and one object per
  connected system. `Users` and `Devices` hold one object per user and camera; each is
  linked to an overt officer or device, created when `OVERT_AXIS_REGISTER_PEOPLE` is on.
- Every other container is one recording, `<UserID>_<BWCSerialNumber>_<TriggerOnTime>`.
  Clips are staged as files as they arrive; bookmarks and the GNSS track are kept in the
  database. When the container's Status becomes Complete, every clip goes through the
  ingest service (byte for byte) into one Recording, with the bookmarks as markers and
  the track as its location track.

Metadata header keys are matched without regard to case (a Body Worn System sends them
canonicalised, e.g. `X-Container-Meta-Bwcserialnumber`); values are URL-encoded UTF-8.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, NoReturn
from urllib.parse import unquote

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from overt.conf import get_settings
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Device, Officer, Original
from overt.evidence.store import (
    HashMismatch,
    InsufficientSpace,
    ObjectNotFound,
    StoreError,
    get_store,
)
from overt.evidence.store.base import CHUNK_SIZE
from overt.ingest.services import IngestError, ingest_file
from overt.ingest.sidecar import Sidecar, safe_name
from overt.ingest.times import (
    MIN_CAPTURE_TIME,
    CaptureTimeError,
    NotRFC3339,
    check_capture_time,
    parse_capture_time,
)

from . import storage
from .asgi_http import HTTPProblem
from .models import AxisContainer, AxisObject, Quarantined

log = logging.getLogger(__name__)

TOKEN_TTL_S = 3600
SYSTEM, USERS, DEVICES = "System", "Users", "Devices"
# The spec (Body Worn Content Destination API, "Capability API") names the object
# System/Capabilities.json; early versions of it said Capability.json, still served.
CAPABILITY_NAMES = ("Capabilities.json", "Capability.json")
# Grouped by the spec's naming rule: `Store` where the system only PUTs or POSTs,
# `StoreAndRead` where it also reads back (the system ID). A capability under the wrong
# group counts as unsupported, so the system would turn the feature off.
CAPABILITIES = {
    "Store": {
        "StoreBookmarks": True,
        "StoreGNSSTrackRecording": True,
        "StoreSignedVideo": True,
        "StoreUserIDKey": True,
    },
    "StoreAndRead": {
        "StoreReadSystemID": True,
    },
}
MAX_META_VALUE = 256  # bytes, decoded; the spec's longest is 100
MAX_META_KEYS = 64
MAX_SMALL_OBJECT = 16 << 20  # bookmarks, GNSS tracks and the like are kept in the database
CLIP_SUFFIXES = (".mkv", ".mp4")


# --- credentials -------------------------------------------------------------------------


def axis_key() -> str:
    """The configured key, or the instance's own, generated on first use (mode 0600)."""
    settings = get_settings()
    configured = settings.axis_key.get_secret_value()
    if configured:
        return configured
    path = settings.home_dir / "axis_key"
    if path.exists():
        return path.read_text("ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text("ascii").strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key


def account_name() -> str:
    return f"AUTH_{get_settings().axis_user}"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt="overt.uploads.axis")


def _key_tag() -> str:
    # Tokens name the key they were issued under: a new key revokes every old token.
    return hashlib.sha256(axis_key().encode()).hexdigest()[:16]


def authenticate(user: str | None, key: str | None) -> str:
    """A token for the configured user and key; 401 otherwise."""
    settings = get_settings()
    expected_user = settings.axis_user.encode()
    ok_user = hmac.compare_digest((user or "").encode(), expected_user)
    ok_key = hmac.compare_digest((key or "").encode(), axis_key().encode())
    if not (user and key and ok_user and ok_key):
        raise HTTPProblem(401, "wrong or missing X-Auth-User / X-Auth-Key")
    return _signer().sign(f"{settings.axis_user}.{_key_tag()}")


def check_token(token: str | None, account: str) -> None:
    if not token:
        raise HTTPProblem(401, "no X-Auth-Token: authenticate at /auth/v1.0 first")
    try:
        value = _signer().unsign(token, max_age=TOKEN_TTL_S)
    except signing.SignatureExpired as exc:
        raise HTTPProblem(401, "the auth token has expired; authenticate again") from exc
    except signing.BadSignature as exc:
        raise HTTPProblem(401, "invalid auth token") from exc
    if value != f"{get_settings().axis_user}.{_key_tag()}":
        raise HTTPProblem(401, "the auth token was issued for another user or key")
    if account != account_name():
        raise HTTPProblem(403, f"this token is for account {account_name()}, not {account}")


# --- names and metadata ------------------------------------------------------------------


def container_name(value: str) -> str:
    try:
        name = safe_name(value, "container name")
    except ValueError as exc:
        raise HTTPProblem(400, str(exc)) from exc
    if len(name) > 256:
        raise HTTPProblem(400, "container name is longer than 256 characters")
    return name


def object_name(value: str) -> str:
    if not value or len(value.encode("utf-8")) > 1024:
        raise HTTPProblem(400, "object name must be 1 to 1024 bytes")
    parts = value.split("/")
    if any(p in ("", ".", "..") for p in parts) or "\\" in value or "\x00" in value:
        raise HTTPProblem(400, f"object name may not have empty, '.' or '..' parts: {value!r}")
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
        raise HTTPProblem(400, "object name contains control characters")
    return value


def parse_meta(headers: dict[str, str], prefix: str) -> dict[str, str]:
    """`X-<Type>-Meta-*` headers (lower-case names) as {key (lower case): decoded value}."""
    meta: dict[str, str] = {}
    for name, raw in headers.items():
        if not name.startswith(prefix):
            continue
        key = name[len(prefix) :]
        if not key:
            raise HTTPProblem(400, f"empty metadata key in {name}")
        try:
            value = unquote(raw.strip(), encoding="utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            raise HTTPProblem(400, f"{name}: not URL-encoded UTF-8") from exc
        if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
            raise HTTPProblem(400, f"{name}: control characters are not allowed")
        if len(value.encode("utf-8")) > MAX_META_VALUE:
            raise HTTPProblem(400, f"{name}: longer than {MAX_META_VALUE} bytes")
        meta[key] = value
    if len(meta) > MAX_META_KEYS:
        raise HTTPProblem(400, f"more than {MAX_META_KEYS} metadata keys")
    return meta


def meta_headers(meta: dict[str, str], prefix: str) -> list[tuple[str, str]]:
    from urllib.parse import quote

    return [
        (prefix + "-".join(p.capitalize() for p in k.split("-")), quote(v, safe=" :.,;@+-_"))
        for k, v in sorted(meta.items())
    ]


def parse_time(meta: dict[str, str], iso_key: str, epoch_key: str, what: str) -> datetime | None:
    """A time from the ISO key, else the epoch key; 400 for an impossible one (the range
    is overt.ingest.times's, the same for every door)."""
    when = None
    if meta.get(iso_key):
        try:
            when = parse_capture_time(meta[iso_key], what)
        except NotRFC3339 as exc:  # some systems write it otherwise: the epoch key decides
            if not meta.get(epoch_key):
                raise HTTPProblem(400, str(exc)) from exc
        except CaptureTimeError as exc:  # written right, but impossible
            raise HTTPProblem(400, str(exc)) from exc
    if when is None and meta.get(epoch_key):
        raw = meta[epoch_key].strip()
        if not re.fullmatch(r"\d{1,16}(\.\d{1,9})?", raw):
            raise HTTPProblem(400, f"{what} is not a time: {raw!r}")
        seconds = float(raw)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000.0
        try:
            when = check_capture_time(datetime.fromtimestamp(seconds, UTC), what)
        except (OverflowError, OSError, ValueError) as exc:
            raise HTTPProblem(400, f"{what} is out of range: {raw!r} ({exc})") from exc
    return when


# --- containers --------------------------------------------------------------------------


def _kind_of(name: str) -> str:
    return {
        SYSTEM: AxisContainer.Kind.SYSTEM,
        USERS: AxisContainer.Kind.USERS,
        DEVICES: AxisContainer.Kind.DEVICES,
    }.get(name, AxisContainer.Kind.RECORDING)


RECORDING_NAME_RE = re.compile(r"^[^_]+_[^_].*_[^_]+$")


def put_container(name: str, meta: dict[str, str]) -> int:
    """Create a container or merge its metadata: 201 when new, 202 when it existed."""
    name = container_name(name)
    if _kind_of(name) == AxisContainer.Kind.RECORDING and not RECORDING_NAME_RE.match(name):
        raise HTTPProblem(
            400,
            f"{name!r} is neither System, Users, Devices nor a recording container "
            "<UserID>_<BWCSerialNumber>_<TriggerOnTime>",
        )
    with transaction.atomic():
        container = AxisContainer.objects.select_for_update().filter(name=name).first()
        created = container is None
        if created:
            container = AxisContainer(name=name, kind=_kind_of(name), metadata={})
        _merge_meta(container, meta)
        try:
            with transaction.atomic():
                container.save()
        except IntegrityError:
            raise HTTPProblem(409, "the container was created concurrently; retry") from None
    _maybe_complete(container)
    return 201 if created else 202


def post_container(name: str, meta: dict[str, str]) -> int:
    name = container_name(name)
    with transaction.atomic():
        container = AxisContainer.objects.select_for_update().filter(name=name).first()
        if container is None:
            raise HTTPProblem(404, f"no container {name!r}")
        _merge_meta(container, meta)
        container.save()
    _maybe_complete(container)
    return 204


def _merge_meta(container: AxisContainer, meta: dict[str, str]) -> None:
    if container.status == AxisContainer.Status.FAILED:
        raise HTTPProblem(400, f"recording {container.name} cannot be stored: {container.problem}")
    if container.status != AxisContainer.Status.OPEN:
        return  # complete: a retried request changes nothing
    merged = dict(container.metadata)
    for key, value in meta.items():
        if value == "":
            merged.pop(key, None)  # Swift: an empty value removes the key
        else:
            merged[key] = value
    if container.kind == AxisContainer.Kind.RECORDING:
        _check_recording_meta(container.name, merged)
    container.metadata = merged


def _check_recording_meta(name: str, meta: dict[str, str]) -> None:
    user_id = meta.get("userid")
    serial = meta.get("bwcserialnumber")
    if user_id is not None:
        _officer_for_user(user_id)
    if serial is not None and not Device.objects.filter(serial=serial).exists():
        raise HTTPProblem(400, f"unknown device {serial!r}: not registered in Devices/")
    if user_id is not None and serial is not None and not name.startswith(f"{user_id}_{serial}_"):
        raise HTTPProblem(
            400, f"container {name!r} is not named <UserID>_<BWCSerialNumber>_<TriggerOnTime>"
        )
    on = parse_time(meta, "triggerontimeiso", "triggerontime", "TriggerOnTime")
    off = parse_time(meta, "triggerofftimeiso", "triggerofftime", "TriggerOffTime")
    if on and off and off < on:
        raise HTTPProblem(400, "TriggerOffTime is before TriggerOnTime")


def get_container(name: str) -> AxisContainer:
    container = AxisContainer.objects.filter(name=name).first()
    if container is None:
        if name in (SYSTEM, USERS, DEVICES):
            return AxisContainer(name=name, kind=_kind_of(name), metadata={})
        raise HTTPProblem(404, f"no container {name!r}")
    return container


def list_containers() -> list[dict]:
    rows = []
    for container in AxisContainer.objects.order_by("name"):
        objects = container.items.all()
        rows.append(
            {
                "name": container.name,
                "count": objects.count(),
                "bytes": sum(o.size for o in objects),
            }
        )
    return rows


def list_objects(name: str) -> list[dict]:
    container = get_container(name)
    rows = []
    if container.kind == AxisContainer.Kind.SYSTEM:
        content = capability_json()
        rows.append(
            {
                "name": CAPABILITY_NAMES[0],
                "bytes": len(content),
                "hash": hashlib.md5(content, usedforsecurity=False).hexdigest(),
                "content_type": "application/json",
            }
        )
    if container.pk:
        for obj in container.items.order_by("name"):
            rows.append(
                {
                    "name": obj.name,
                    "bytes": obj.size,
                    "hash": obj.md5,
                    "content_type": _content_type(obj),
                    "last_modified": obj.updated_at.isoformat(),
                }
            )
    return rows


# --- objects -----------------------------------------------------------------------------


def capability_json() -> bytes:
    return json.dumps(CAPABILITIES, indent=2, sort_keys=True).encode("utf-8")


def classify(container: AxisContainer, name: str, meta: dict[str, str]) -> str:
    if container.kind == AxisContainer.Kind.SYSTEM:
        if name in CAPABILITY_NAMES:
            raise HTTPProblem(403, f"{name} is published by overt and cannot be replaced")
        return AxisObject.Kind.SYSTEM
    if container.kind == AxisContainer.Kind.USERS:
        return AxisObject.Kind.USER
    if container.kind == AxisContainer.Kind.DEVICES:
        return AxisObject.Kind.DEVICE
    lower = name.lower()
    if lower.endswith(".key"):
        raise HTTPProblem(
            400,
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
        raise HTTPProblem(404, f"no container {container_name_!r}: create it first")
    kind = classify(container, name, meta)
    check_object_times(kind, name, meta)
    if kind == AxisObject.Kind.USER:
        _check_user(name, meta)
    if kind == AxisObject.Kind.DEVICE:
        _check_device(name, meta)
    return container, kind


def check_object_times(kind: str, name: str, meta: dict[str, str]) -> None:
    """400 for an impossible clip or bookmark time, before any byte is kept: these
    times are read again at completion, where a failure would refuse the recording."""
    if kind == AxisObject.Kind.CLIP:
        start = parse_time(meta, "starttimeiso", "starttime", "StartTime")
        stop = parse_time(meta, "stoptimeiso", "stoptime", "StopTime")
        if start and stop and stop <= start:
            raise HTTPProblem(400, "the clip has no duration (StopTime is not after StartTime)")
    if kind == AxisObject.Kind.BOOKMARK:
        parse_time(meta, "starttime", "starttimeepoch", f"bookmark {name}")


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

    A sent ETag that does not match keeps the bytes in quarantine and answers 422.
    """
    if etag is not None and etag.strip('"').lower() != md5:
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
        raise HTTPProblem(
            422,
            f"the body's MD5 is {md5}, not the ETag sent ({etag}); the bytes are kept in "
            "quarantine and the object was not stored",
        )
    content = None
    if small(kind):
        if size > MAX_SMALL_OBJECT:
            storage.remove(staged)
            raise HTTPProblem(413, f"{kind} objects may be at most {MAX_SMALL_OBJECT} bytes")
        content = staged.read_bytes()
        if kind == AxisObject.Kind.BOOKMARK:
            _text(content, name)
        if kind == AxisObject.Kind.GNSS:
            _track(content, name)
    with transaction.atomic():
        container = AxisContainer.objects.select_for_update().get(pk=container.pk)
        existing = AxisObject.objects.filter(container=container, name=name).first()
        if container.status != AxisContainer.Status.OPEN:
            if existing is not None and existing.md5 == md5:
                storage.remove(staged)
                return 201  # a retry of what the recording already has
            storage.remove(staged)
            raise HTTPProblem(409, "the recording is complete; its objects cannot change")
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
            existing.officer = _sync_user(name, meta)
        if kind == AxisObject.Kind.DEVICE:
            existing.device = _sync_device(name, meta)
        existing.save()
        if replaced is not None and replaced.exists():
            _keep_replaced(replaced, existing, actor)
    if content is not None:
        storage.remove(staged)
    return 201


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
        check_object_times(obj.kind, name, meta)
        if obj.kind == AxisObject.Kind.USER:
            _check_user(name, meta)
            obj.officer = _sync_user(name, meta)
        if obj.kind == AxisObject.Kind.DEVICE:
            _check_device(name, meta)
            obj.device = _sync_device(name, meta)
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
        raise HTTPProblem(404, f"no object {container_name_}/{name}")
    return obj


@dataclass(frozen=True, slots=True)
class Stream:
    """An object's bytes, sent in chunks rather than read into memory: a staged clip
    (a file) or an ingested one (an evidence store object, which may be on S3)."""

    size: int
    open: Callable[[], Iterator[bytes]]  # opened only for a GET; errors before any header


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
    return obj.metadata, obj.md5, body, _content_type(obj)


def _file_chunks(path: Path) -> Iterator[bytes]:
    try:
        fh = open(path, "rb", buffering=0)  # here, so a failure comes before any header
    except FileNotFoundError as exc:  # ingested (and unstaged) since it was looked up
        raise HTTPProblem(
            503, "the object was stored just now; retry", headers=[("Retry-After", "1")]
        ) from exc
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
        raise HTTPProblem(
            500, f"the object's bytes are missing from the evidence store: {exc}"
        ) from exc
    except StoreError as exc:
        raise HTTPProblem(
            503, f"the evidence store failed ({exc}); retry", headers=[("Retry-After", "30")]
        ) from exc


def _content_type(obj: AxisObject) -> str:
    if obj.kind == AxisObject.Kind.CLIP:
        return "video/x-matroska" if obj.name.lower().endswith(".mkv") else "video/mp4"
    if obj.kind in (AxisObject.Kind.GNSS,):
        return "application/json"
    if obj.kind == AxisObject.Kind.BOOKMARK:
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


# --- users and devices -------------------------------------------------------------------


def _check_user(uuid: str, meta: dict[str, str]) -> None:
    if len(uuid) > 100:
        raise HTTPProblem(400, "user object names are at most 100 characters")
    if get_settings().axis_register_people:
        return
    if _linked_officer(uuid, meta) is None:
        raise HTTPProblem(
            402,
            "overt does not register Axis users itself here (OVERT_AXIS_REGISTER_PEOPLE is "
            "off): add the officer first with `overt officer add`, and give the user that "
            "number as its User ID",
        )


def _linked_officer(uuid: str, meta: dict[str, str]) -> Officer | None:
    user_id = (meta.get("userid") or "").strip()
    if user_id:
        officer = Officer.objects.filter(number=user_id).first()
        if officer is not None:
            return officer
    obj = AxisObject.objects.filter(container__name=USERS, name=uuid, officer__isnull=False).first()
    return obj.officer if obj else None


def _sync_user(uuid: str, meta: dict[str, str]) -> Officer:
    officer = _linked_officer(uuid, meta)
    name = (meta.get("name") or "").strip()
    active = (meta.get("active") or "true").strip().lower() != "false"
    if officer is None:
        number = (meta.get("userid") or "").strip()[:32] or "AX-" + re.sub(
            r"[^0-9A-Za-z]", "", uuid
        )[:12]
        officer, _ = Officer.objects.get_or_create(
            number=number, defaults={"name": name or number, "active": active}
        )
    changed = []
    if name and officer.name != name:
        officer.name = name
        changed.append("name")
    if officer.active != active:
        officer.active = active
        changed.append("active")
    if changed:
        officer.save(update_fields=changed)
    return officer


def _check_device(serial: str, meta: dict[str, str]) -> None:
    if len(serial) > 64:
        raise HTTPProblem(400, "device serial numbers are at most 64 characters")
    if (
        not get_settings().axis_register_people
        and not Device.objects.filter(serial=serial).exists()
    ):
        raise HTTPProblem(
            402,
            f"overt does not register Axis cameras itself here (OVERT_AXIS_REGISTER_PEOPLE is "
            f"off): add {serial} first with `overt device add`",
        )


def _sync_device(serial: str, meta: dict[str, str]) -> Device:
    model = (meta.get("model") or "").strip()[:100]
    device, created = Device.objects.get_or_create(serial=serial, defaults={"model": model})
    if not created and model and device.model != model:
        device.model = model
        device.save(update_fields=["model"])
    return device


def _officer_for_user(user_id: str) -> Officer:
    obj = (
        AxisObject.objects.filter(container__name=USERS, name=user_id)
        .select_related("officer")
        .first()
    )
    if obj is not None and obj.officer is not None:
        return obj.officer
    officer = Officer.objects.filter(number=user_id).first()
    if officer is None:
        raise HTTPProblem(400, f"unknown user {user_id!r}: not registered in Users/")
    return officer


# --- completion --------------------------------------------------------------------------


def _maybe_complete(container: AxisContainer) -> None:
    if (
        container.kind == AxisContainer.Kind.RECORDING
        and container.status == AxisContainer.Status.OPEN
        and container.metadata.get("status", "").strip().lower() == "complete"
    ):
        complete_recording(container.pk)


def complete_recording(container_pk: int) -> None:
    """Turn a complete recording container into one overt Recording.

    Clips go through the ingest service one by one (each already ingested is skipped, so
    a retry carries on where a failure stopped). 400 when it can never be stored.
    """
    container = AxisContainer.objects.get(pk=container_pk)
    meta = container.metadata
    if "userid" not in meta or "bwcserialnumber" not in meta:
        _fail(container, "the recording's metadata lacks UserID or BWCSerialNumber")
    try:
        officer = _officer_for_user(meta["userid"])
        serial = meta["bwcserialnumber"]
        if not Device.objects.filter(serial=serial).exists():
            raise HTTPProblem(400, f"unknown device {serial!r}")
        trigger_on = parse_time(meta, "triggerontimeiso", "triggerontime", "TriggerOnTime")
        trigger_off = parse_time(meta, "triggerofftimeiso", "triggerofftime", "TriggerOffTime")
    except HTTPProblem as exc:
        _fail(container, exc.detail)
    objects = list(container.items.all())
    clips = sorted(
        (o for o in objects if o.kind == AxisObject.Kind.CLIP),
        key=lambda o: (_clip_time(o, "start") or MIN_CAPTURE_TIME, o.name),
    )
    if not clips:
        _fail(container, "the recording has no clips")
    if trigger_on is None:
        trigger_on = _clip_time(clips[0], "start")
    if trigger_on is None:
        _fail(container, "the recording has no TriggerOnTime and its clips no StartTime")
    markers = []
    track: list[dict] = []
    try:
        for obj in objects:
            if obj.kind == AxisObject.Kind.BOOKMARK:
                markers.append(_marker(obj, trigger_on))
            elif obj.kind == AxisObject.Kind.GNSS:
                track.extend(_track(bytes(obj.content or b""), obj.name))
    except HTTPProblem as exc:
        _fail(container, exc.detail)
    track.sort(key=lambda p: p["t"])
    recording_meta = {
        "trigger_on_at": trigger_on.isoformat(),
        "trigger_off_at": trigger_off.isoformat() if trigger_off else None,
        "trigger_on_reason": meta.get("triggeron", "")[:64],
        "trigger_off_reason": meta.get("triggeroff", "")[:64],
        "title": "",
        "gps_track": track,
    }
    location = _location(meta.get("triggeronlocation", ""))
    if location:
        recording_meta["location"] = location
    actor = Actor("device", serial)
    recording_id = None
    for index, obj in enumerate(clips):
        if obj.original_id:
            recording_id = Original.objects.get(pk=obj.original_id).recording_id
            continue
        sidecar = Sidecar.model_validate(
            {
                "schema": "overt.sidecar/1",
                "officer": officer.number,
                "device": serial,
                "sha256": obj.sha256,
                "recording": recording_meta,
                "clip": {
                    "started_at": _iso(_clip_time(obj, "start")),
                    "stopped_at": _iso(_clip_time(obj, "stop")),
                },
                "markers": markers if index == 0 else [],
            }
        )
        path = Path(obj.staged_path)
        try:
            result = ingest_file(
                path,
                officer_number=officer.number,
                device_serial=serial,
                sidecar=sidecar,
                declared_sha256=obj.sha256,
                source=Original.Source.UPLOAD,
                actor=actor,
                filename=_plain(obj.name),
                store=storage.store_for(path, obj.sha256),
            )
        except InsufficientSpace as exc:
            raise HTTPProblem(507, str(exc)) from exc
        except (IngestError, HashMismatch) as exc:
            _fail(container, f"clip {obj.name}: {exc}")
        except (StoreError, OSError) as exc:
            raise HTTPProblem(
                503, f"the evidence store failed ({exc}); retry", headers=[("Retry-After", "30")]
            ) from exc
        obj.original_id = result.id
        obj.save(update_fields=["original", "updated_at"])
        storage.remove(path)
        recording_id = result.recording_id
    AxisContainer.objects.filter(pk=container.pk).update(
        status=AxisContainer.Status.COMPLETE,
        recording_id=recording_id,
        completed_at=timezone.now(),
        problem="",
    )
    log.info("Axis recording %s catalogued as recording %s", container.name, recording_id)


def _fail(container: AxisContainer, reason: str) -> NoReturn:
    """Refuse a complete recording for good (400): it stays, with its staged clips."""
    AxisContainer.objects.filter(pk=container.pk).update(
        status=AxisContainer.Status.FAILED, problem=reason, completed_at=timezone.now()
    )
    log.warning("Axis recording %s refused: %s", container.name, reason)
    raise HTTPProblem(400, f"recording {container.name} cannot be stored: {reason}")


def _clip_time(obj: AxisObject, which: str) -> datetime | None:
    try:
        return parse_time(obj.metadata, f"{which}timeiso", f"{which}time", f"{which} time")
    except HTTPProblem:
        return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _plain(name: str) -> str:
    try:
        return safe_name(name.rsplit("/", 1)[-1], "clip name")
    except ValueError:
        return "clip"


def _text(content: bytes, name: str) -> str:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPProblem(400, f"bookmark {name} is not UTF-8 text") from exc
    return text


def _marker(obj: AxisObject, trigger_on: datetime) -> dict:
    text = _text(bytes(obj.content or b""), obj.name).strip()
    category = obj.metadata.get("categoryname", "").strip()
    tags = obj.metadata.get("tags", "").strip()
    label = " · ".join(p for p in (category, text, f"tags: {tags}" if tags else "") if p)
    at = parse_time(obj.metadata, "starttime", "starttimeepoch", f"bookmark {obj.name}")
    if at is None:
        at = trigger_on
    return {"at": at.isoformat(), "text": (label or "Bookmark")[:500]}


_POINT_RE = re.compile(r"^\s*POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)\s*$", re.IGNORECASE)


def _track(content: bytes, name: str) -> list[dict]:
    try:
        data = json.loads(content.decode("utf-8"))
        entries = data["CoordinateEntries"]
        points = []
        for entry in entries:
            match = _POINT_RE.match(entry["LocationWKT"])
            if not match:
                raise ValueError(f"not a POINT: {entry['LocationWKT']!r}")
            lon, lat = float(match.group(1)), float(match.group(2))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"coordinates out of range: {lat}, {lon}")
            from .tusmeta import parse_rfc3339

            when = parse_rfc3339(entry["Timestamp"], "GNSS Timestamp")
            points.append({"t": when.isoformat(), "lat": lat, "lon": lon})
    except HTTPProblem as exc:
        raise HTTPProblem(400, f"GNSS track {name}: {exc.detail}") from exc
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise HTTPProblem(400, f"GNSS track {name} is not in the Axis format: {exc}") from exc
    return points


def _location(value: str) -> dict | None:
    numbers = re.findall(r"-?\d+(?:\.\d+)?", value)
    if len(numbers) < 2:
        return None
    lat, lon = float(numbers[0]), float(numbers[1])
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return {"lat": lat, "lon": lon}
    return None
