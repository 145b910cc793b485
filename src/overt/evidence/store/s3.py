"""The S3 backend: objects under PREFIX/objects/ab/cd/<sha256>, write-once, Object Lock aware.

Longer than 400 lines because it is one class: the write-once rule, Object Lock, multipart
uploads and their cleanup are one contract against one client, and read best together.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import ipaddress
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

import boto3
import botocore.exceptions as boto_errors
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .base import (
    CHUNK_SIZE,
    EvidenceStore,
    HashMismatch,
    InsufficientSpace,
    ObjectLocked,
    ObjectNotFound,
    ProgressCallback,
    SourceReadError,
    StoredObject,
    StoreError,
    check_sha256,
    is_abandoned,
    part_name,
)

LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")
SPOOL_PREFIX = "overt-s3-spool-"
DEFAULT_PART_MB = 8
UPLOAD_THREADS = 4  # parts uploaded at once; parts stream from the spool, so memory is flat
MAX_PARTS = 10_000  # S3's limit per multipart upload
STALE_UPLOAD_AGE = timedelta(days=1)
URL_PARAMS = frozenset(
    {"endpoint", "region", "access_key", "secret_key", "lock_mode", "lock_days", "spool", "part_mb"}
)
_KEY_RE = re.compile(r"objects/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_DENIED = {
    "403",
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AllAccessDisabled",
}


@dataclass(frozen=True, slots=True)
class LockPolicy:
    mode: str
    days: int


class SpoolFull(InsufficientSpace):
    def __init__(self, spool: Path, needed: int, free: int) -> None:
        super().__init__(needed, free)
        self.args = (
            f"the S3 spool directory {spool} is full: {needed} bytes spooled, {free} free",
        )


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _parse_query(query: str) -> dict[str, str]:
    # Not parse_qs: it turns '+' into a space, and secret keys often contain '+'.
    params: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        name, _, value = pair.partition("=")
        params[unquote(name)] = unquote(value)
    unknown = set(params) - URL_PARAMS
    if unknown:
        raise StoreError(f"unknown S3 store URL parameter(s): {', '.join(sorted(unknown))}")
    return params


def _positive_int(params: dict[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1:
        raise StoreError(f"S3 store URL parameter {name} must be a positive integer, not {text!r}")
    return int(text)


def _hash_part(fh: BinaryIO, length: int, whole: Any) -> str:
    """Read the next `length` bytes; feed the whole-object hash; return the part's checksum."""
    part = hashlib.sha256()
    view = memoryview(bytearray(min(CHUNK_SIZE, length)))
    remaining = length
    while remaining:
        # typing.BinaryIO has no readinto; the files and streams overt reads have.
        n = fh.readinto(view[: min(len(view), remaining)])  # type: ignore[attr-defined]
        if not n:
            raise StoreError("the file being uploaded is shorter than when it was hashed")
        part.update(view[:n])
        whole.update(view[:n])
        remaining -= n
    return _b64(part.digest())


class _SpoolSlice:
    """A seekable, read-only window on the spool file: one part's body, streamed, not loaded.

    botocore sizes it with len(), re-reads it for request signing and rewinds it to retry.
    """

    def __init__(self, path: Path, offset: int, length: int) -> None:
        self._fh = open(path, "rb")
        self._offset = offset
        self._length = length
        self._pos = 0

    def __len__(self) -> int:
        return self._length

    def __enter__(self) -> _SpoolSlice:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._length}[whence]
        self._pos = min(max(0, base + pos), self._length)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        remaining = self._length - self._pos
        size = remaining if size is None or size < 0 else min(size, remaining)
        if size <= 0:
            return b""
        self._fh.seek(self._offset + self._pos)
        data = self._fh.read(size)
        self._pos += len(data)
        return data

    def close(self) -> None:
        self._fh.close()


class S3Store(EvidenceStore):
    """Evidence objects in an S3 (or S3-compatible) bucket.

    URL: ``s3://BUCKET[/PREFIX]?param=value&...``; values are percent-decoded ('+' is kept
    as '+', so secret keys need no escaping beyond '%', '&', '=' and '#').

    Query parameters, all optional:

    - ``endpoint``: base URL of an S3-compatible service (MinIO, Ceph, moto), e.g.
      ``http://127.0.0.1:9000``. Path-style addressing is used when given. Default: AWS.
    - ``region``: signing region, e.g. ``eu-west-2``. Default: boto3's chain
      (``AWS_REGION`` / ``AWS_DEFAULT_REGION`` / config file).
    - ``access_key``, ``secret_key``: static credentials; give both or neither. Default:
      boto3's chain (``AWS_ACCESS_KEY_ID`` etc., config files, instance/task roles).
      Both are removed from ``store.url`` so it is safe to log.
    - ``lock_mode``: ``COMPLIANCE`` (default) or ``GOVERNANCE``: the Object Lock mode set on
      every new object when the bucket has Object Lock enabled.
    - ``lock_days``: retention period in days for new objects (default 31). When the
      bucket has a default retention rule that is longer or stricter, the bucket's wins:
      an explicit per-object retention would otherwise override (shorten) it.
      Naming ``lock_mode`` or ``lock_days`` in the URL makes Object Lock required: puts
      fail if the bucket does not have it enabled, rather than silently storing unlocked.
    - ``spool``: directory for the local spool file each upload is staged in (the hash,
      and so the key, is known only at the end of the stream). Needs room for the
      largest object being uploaded at once, per concurrent upload (a file adopted with
      ``adopt``, such as a finished tus upload, is sent from where it is, with no spool).
      Default: the system temporary directory.
    - ``part_mb``: multipart part size in MiB (default 8, 5 to 5120); objects larger than
      one part are uploaded in parts, 4 at a time, streamed from the spool (memory stays
      flat). Parts grow as needed to keep within S3's 10,000-part limit.

    Writes are create-only (``If-None-Match: *`` on PutObject and CompleteMultipartUpload)
    and carry the SHA-256 (whole object, or per part) for the server to verify. An
    S3-compatible service that ignores If-None-Match still never gets different bytes
    under a key (the key is their hash, and existence is checked first), but a racing
    identical write could add a second, identical version.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        lock_mode: str = "COMPLIANCE",
        lock_days: int = 31,
        lock_required: bool = False,
        spool: Path | None = None,
        part_mb: int = DEFAULT_PART_MB,
        url: str | None = None,
    ) -> None:
        if lock_mode not in LOCK_MODES:
            raise StoreError(f"lock_mode must be COMPLIANCE or GOVERNANCE, not {lock_mode!r}")
        if (access_key is None) != (secret_key is None):
            raise StoreError("give both access_key and secret_key in the S3 store URL, or neither")
        if not 5 <= part_mb <= 5120:
            raise StoreError("part_mb must be at least 5 and at most 5120 (S3's part limits)")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint = endpoint
        self.lock_mode = lock_mode
        self.lock_days = lock_days
        self.lock_required = lock_required
        self.spool_dir = spool or Path(tempfile.gettempdir())
        self.part_size = part_mb << 20
        self.concurrency = UPLOAD_THREADS
        self.url = url or f"s3://{bucket}/{self.prefix}"
        self._lock_policy: LockPolicy | None = None
        self._lock_looked_up = False
        self._bucket_checked = False
        self._client = self._make_client(region, access_key, secret_key)

    @classmethod
    def from_url(cls, url: str) -> S3Store:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise StoreError(f"not an S3 store URL (want s3://BUCKET[/PREFIX]?...): {url!r}")
        params = _parse_query(parts.query)
        lock_mode = params.get("lock_mode", "COMPLIANCE").upper()
        spool = params.get("spool")
        safe_query = "&".join(
            f"{k}={v}" for k, v in params.items() if k not in {"access_key", "secret_key"}
        )
        return cls(
            parts.netloc,
            unquote(parts.path),
            endpoint=params.get("endpoint"),
            region=params.get("region"),
            access_key=params.get("access_key"),
            secret_key=params.get("secret_key"),
            lock_mode=lock_mode,
            lock_days=_positive_int(params, "lock_days", 31),
            lock_required="lock_mode" in params or "lock_days" in params,
            spool=Path(spool) if spool else None,
            part_mb=_positive_int(params, "part_mb", DEFAULT_PART_MB),
            url=f"s3://{parts.netloc}{parts.path}" + (f"?{safe_query}" if safe_query else ""),
        )

    def _make_client(self, region: str | None, access_key: str | None, secret: str | None) -> Any:
        config = Config(
            connect_timeout=10,
            read_timeout=120,
            retries={"mode": "standard", "max_attempts": 3},
            max_pool_connections=self.concurrency + 4,
            s3={"addressing_style": "path" if self.endpoint else "auto"},
        )
        session = boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret, region_name=region
        )
        client = session.client("s3", endpoint_url=self.endpoint, config=config)
        # A body that carries its SHA-256 in x-amz-checksum-sha256 (every PUT and part
        # overt sends) is not hashed a second time for the signature. Over HTTPS botocore
        # already signs such a body as UNSIGNED-PAYLOAD; over plain HTTP (an endpoint on
        # loopback) it read and hashed the whole body again, the largest cost left in an
        # app process's Python. The checksum header is signed and S3 checks the body
        # against it, so a changed body is still refused. Only on loopback: across a
        # network over plain HTTP, an S3-compatible service that ignored the checksum
        # header would leave nothing checking the body, so it stays signed there.
        if not _on_loopback(self.endpoint):
            return client
        unhashed = config.merge(Config(s3={**(config.s3 or {}), "payload_signing_enabled": False}))

        def sign_without_rehashing(request: Any, **_: Any) -> None:
            if "x-amz-checksum-sha256" in request.headers:
                request.context["client_config"] = unhashed

        for operation in ("PutObject", "UploadPart"):
            client.meta.events.register(f"before-sign.s3.{operation}", sign_without_rehashing)
        return client

    # ---- keys and errors --------------------------------------------------------------

    def key(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}objects/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def location(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{self.key(sha256)}"

    def _where(self) -> str:
        return f"bucket {self.bucket!r}" + (f" at {self.endpoint}" if self.endpoint else "")

    def _translate(self, exc: Exception, action: str, sha256: str | None) -> StoreError:
        """One clear StoreError for any botocore failure, instead of a raw trace."""
        if isinstance(exc, ClientError):
            code = _error_code(exc)
            message = exc.response.get("Error", {}).get("Message") or code
            if code == "NoSuchBucket":
                return StoreError(f"S3 {action} failed: {self._where()} does not exist")
            if code in _DENIED:
                return StoreError(
                    f"S3 {action} failed: access denied to {self._where()} ({code}: {message});"
                    " check the credentials and the bucket policy"
                )
            if code in _NOT_FOUND and sha256 is not None:
                return ObjectNotFound(sha256)
            return StoreError(f"S3 {action} failed on {self._where()}: {code}: {message}")
        if isinstance(exc, boto_errors.ConnectionError):
            return StoreError(
                f"S3 {action} failed: cannot reach the endpoint for {self._where()}: {exc}"
            )
        if isinstance(exc, boto_errors.HTTPClientError):  # timeouts, dropped connections
            return StoreError(f"S3 {action} failed: connection trouble with {self._where()}: {exc}")
        if isinstance(exc, boto_errors.NoCredentialsError | boto_errors.PartialCredentialsError):
            return StoreError(
                f"S3 {action} failed: no usable credentials ({exc}); give access_key and"
                " secret_key in the store URL or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            )
        return StoreError(f"S3 {action} failed on {self._where()}: {exc}")

    @contextmanager
    def _errors(self, action: str, sha256: str | None = None) -> Iterator[None]:
        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc, action, sha256) from exc

    def _check_bucket(self) -> None:
        """A HEAD 404 does not say whether the key or the bucket is missing; ask once."""
        if self._bucket_checked:
            return
        with self._errors("bucket check"):
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if _error_code(exc) in _NOT_FOUND:
                    raise StoreError(f"{self._where()} does not exist") from exc
                raise
        self._bucket_checked = True

    def _head(self, sha256: str) -> dict[str, Any] | None:
        key = self.key(sha256)
        with self._errors("head", sha256):
            try:
                head: dict[str, Any] = self._client.head_object(Bucket=self.bucket, Key=key)
                return head
            except ClientError as exc:
                if _error_code(exc) not in _NOT_FOUND:
                    raise
        self._check_bucket()
        return None

    # ---- reads ------------------------------------------------------------------------

    def exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def size(self, sha256: str) -> int:
        head = self._head(sha256)
        if head is None:
            raise ObjectNotFound(sha256)
        return int(head["ContentLength"])

    def read_range(self, sha256: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if start < 0 or (end is not None and end < 0):
            raise ValueError(f"negative range [{start}, {end})")
        if end is not None and end <= start:
            self.size(sha256)  # still say ObjectNotFound for a missing object
            return iter(())
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key(sha256)}
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        # The GET is made here, not lazily, so a missing object fails at the call as in LocalStore.
        with self._errors("read", sha256):
            try:
                response = self._client.get_object(**kwargs)
            except ClientError as exc:
                if _error_code(exc) == "InvalidRange":  # start at or past the end
                    return iter(())
                if _error_code(exc) in _NOT_FOUND:
                    self._check_bucket()
                raise
        return self._iter_body(response["Body"], sha256)

    def _iter_body(self, body: Any, sha256: str) -> Iterator[bytes]:
        try:
            with self._errors("read", sha256):
                yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def iter_hashes(self) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        with self._errors("list"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}objects/"):
                for item in page.get("Contents", ()):
                    match = _KEY_RE.fullmatch(item["Key"][len(self.prefix) :])
                    if match and match[3][:2] == match[1] and match[3][2:4] == match[2]:
                        yield match[3]

    def retention(self, sha256: str) -> tuple[str, datetime] | None:
        """The object's Object Lock (mode, retain-until), or None if it has none."""
        head = self._head(sha256)
        if head is None:
            raise ObjectNotFound(sha256)
        if "ObjectLockMode" not in head:
            return None
        return head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]

    # ---- purge ------------------------------------------------------------------------

    def _versions(self, sha256: str) -> list[tuple[str, bool]]:
        """Every (version id, is a delete marker) stored under the object's key."""
        key = self.key(sha256)
        found: list[tuple[str, bool]] = []
        paginator = self._client.get_paginator("list_object_versions")
        with self._errors("version listing", sha256):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=key):
                for item in page.get("Versions", ()):
                    if item["Key"] == key:
                        found.append((item["VersionId"], False))
                for item in page.get("DeleteMarkers", ()):
                    if item["Key"] == key:
                        found.append((item["VersionId"], True))
        return found

    def _version_lock(self, sha256: str, version_id: str) -> ObjectLocked | None:
        """The lock in force on one version now, as an ObjectLocked to raise, or None."""
        with self._errors("head", sha256):
            try:
                head = self._client.head_object(
                    Bucket=self.bucket, Key=self.key(sha256), VersionId=version_id
                )
            except ClientError as exc:
                if _error_code(exc) in _NOT_FOUND:
                    return None
                raise
        until = head.get("ObjectLockRetainUntilDate")
        in_force = until is not None and until > datetime.now(UTC)
        legal_hold = head.get("ObjectLockLegalHoldStatus") == "ON"
        if not (in_force or legal_hold):
            return None
        return ObjectLocked(
            sha256, until if in_force else None, head.get("ObjectLockMode", ""), legal_hold
        )

    def _first_lock(self, sha256: str, versions: list[tuple[str, bool]]) -> ObjectLocked | None:
        """The lock that ends last among the object's versions, or None if none is locked."""
        if self.lock_policy() is None:
            return None  # Object Lock needs the bucket to have it enabled
        locks = [
            lock
            for version_id, marker in versions
            if not marker and (lock := self._version_lock(sha256, version_id)) is not None
        ]
        if not locks:
            return None
        # A legal hold (no end date) outranks any date; otherwise the latest date wins.
        return max(locks, key=lambda lk: (lk.legal_hold, lk.retain_until or datetime.min))

    def lock_until(self, sha256: str) -> datetime | None:
        if self.lock_policy() is None:
            return None
        lock = self._first_lock(sha256, self._versions(sha256))
        if lock is None:
            return None
        if lock.legal_hold:
            raise lock
        return lock.retain_until

    def purge(self, sha256: str) -> None:
        """Delete every version of the object, and any delete markers.

        Refused (ObjectLocked, nothing deleted) while any version is under Object Lock
        retention or legal hold: the lock is never bypassed, even in GOVERNANCE mode.
        """
        versions = self._versions(sha256)
        if not versions:
            return
        lock = self._first_lock(sha256, versions)
        if lock is not None:
            raise lock
        key = self.key(sha256)
        # Delete markers last, so a failure part-way never hides versions still stored.
        for version_id, _ in sorted(versions, key=lambda v: v[1]):
            try:
                self._client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)
            except ClientError as exc:
                if _error_code(exc) in _DENIED:
                    # A lock may have been set since we looked: report it as such.
                    lock = self._version_lock(sha256, version_id)
                    if lock is not None:
                        raise lock from exc
                raise self._translate(exc, "purge", sha256) from exc
            except BotoCoreError as exc:
                raise self._translate(exc, "purge", sha256) from exc

    # ---- Object Lock ------------------------------------------------------------------

    def lock_policy(self) -> LockPolicy | None:
        """What new objects are locked with, or None when the bucket has no Object Lock."""
        if not self._lock_looked_up:  # once per store: the bucket's setting cannot be undone
            self._lock_policy = self._read_lock_policy()
            self._lock_looked_up = True
        return self._lock_policy

    def _read_lock_policy(self) -> LockPolicy | None:
        with self._errors("Object Lock configuration lookup"):
            try:
                config = self._client.get_object_lock_configuration(Bucket=self.bucket)
            except ClientError as exc:
                if _error_code(exc) != "ObjectLockConfigurationNotFoundError":
                    raise
                config = {}
        lock = config.get("ObjectLockConfiguration", {})
        if lock.get("ObjectLockEnabled") != "Enabled":
            if self.lock_required:
                raise StoreError(
                    f"the store URL asks for Object Lock but {self._where()} does not have it"
                    " enabled; refusing to store evidence unlocked"
                )
            return None
        default = lock.get("Rule", {}).get("DefaultRetention", {})
        # Years are counted as 366 days so a per-object date never undercuts the bucket rule.
        default_days = int(default.get("Days") or 0) + 366 * int(default.get("Years") or 0)
        strict = "COMPLIANCE" in (self.lock_mode, default.get("Mode"))
        return LockPolicy(
            "COMPLIANCE" if strict else self.lock_mode, max(self.lock_days, default_days)
        )

    def _lock_args(self) -> dict[str, Any]:
        policy = self.lock_policy()
        if policy is None:
            return {}
        until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=policy.days)
        return {"ObjectLockMode": policy.mode, "ObjectLockRetainUntilDate": until}

    def _ensure_locked(self, sha256: str, lock: dict[str, Any]) -> None:
        """Some S3 implementations drop lock headers on multipart uploads: check and repair."""
        if not lock:
            return
        head = self._head(sha256)
        if head is None or head.get("ObjectLockMode"):
            return
        with self._errors("set retention", sha256):
            self._client.put_object_retention(
                Bucket=self.bucket,
                Key=self.key(sha256),
                VersionId=head["VersionId"],
                Retention={
                    "Mode": lock["ObjectLockMode"],
                    "RetainUntilDate": lock["ObjectLockRetainUntilDate"],
                },
            )

    # ---- writes -----------------------------------------------------------------------

    def put(
        self,
        source: BinaryIO,
        *,
        expected_sha256: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> StoredObject:
        if expected_sha256 is not None:
            check_sha256(expected_sha256)
        spool = self._new_spool_path()
        try:  # the spool is removed on every way out, KeyboardInterrupt included
            sha256, size = self._spool(source, spool, progress)
            if expected_sha256 is not None and sha256 != expected_sha256:
                raise HashMismatch(expected_sha256, sha256)
            created = self._upload_once(spool, sha256, size)
            return StoredObject(sha256, size, created=created)
        finally:
            spool.unlink(missing_ok=True)

    def adopt(
        self, path: Path, *, expected_sha256: str | None = None, hashed: bool = False
    ) -> StoredObject:
        """An upload of the file itself, with no spool copy (it is complete and stays put).

        Without `hashed`, the file is read twice: hashed first (the hash is the key), then
        sent. With `hashed` (the caller hashed these very bytes as it wrote them, as a tus
        upload does), the first read is skipped: the key is `expected_sha256`. The object
        is still tied to that hash by what was sent, not by the caller's word alone: a
        single PUT carries it as ChecksumSHA256, which S3 checks against the bytes it
        received and keeps as the object's checksum (refused with BadDigest if the file
        changed since it was hashed); a multipart upload hashes the whole file again as it
        makes each part's checksum and refuses to complete if that differs."""
        if expected_sha256 is not None:
            check_sha256(expected_sha256)
        if hashed and expected_sha256 is None:
            raise ValueError("hashed=True needs expected_sha256")
        if hashed and expected_sha256 is not None:
            try:
                size = os.stat(path).st_size
            except OSError as exc:
                raise SourceReadError(f"reading {path} failed: {exc}") from exc
            return StoredObject(
                expected_sha256, size, created=self._upload_once(path, expected_sha256, size)
            )
        digest = hashlib.sha256()
        size = 0
        try:
            with open(path, "rb", buffering=0) as source:
                while chunk := source.read(CHUNK_SIZE):
                    digest.update(chunk)
                    size += len(chunk)
        except OSError as exc:
            raise SourceReadError(f"reading {path} failed: {exc}") from exc
        sha256 = digest.hexdigest()
        if expected_sha256 is not None and sha256 != expected_sha256:
            raise HashMismatch(expected_sha256, sha256)
        return StoredObject(sha256, size, created=self._upload_once(path, sha256, size))

    def _new_spool_path(self) -> Path:
        # The pid lets cleanup_incomplete() tell a crashed writer's spool from a live one's.
        return self.spool_dir / part_name(SPOOL_PREFIX)

    def _spool(
        self, source: BinaryIO, spool: Path, progress: ProgressCallback | None
    ) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        try:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            with open(spool, "xb", buffering=0) as out:
                view = memoryview(bytearray(CHUNK_SIZE))
                # As in _hash_part: BinaryIO's type lacks the readinto every source has.
                while n := source.readinto(view):  # type: ignore[attr-defined]
                    digest.update(view[:n])
                    out.write(view[:n])  # FileIO.write on a regular file writes it all
                    size += n
                    if progress is not None:
                        progress(size)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise SpoolFull(
                    self.spool_dir, size, shutil.disk_usage(self.spool_dir).free
                ) from exc
            raise StoreError(f"spooling the upload in {self.spool_dir} failed: {exc}") from exc
        return digest.hexdigest(), size

    def _upload_once(self, spool: Path, sha256: str, size: int) -> bool:
        if self.exists(sha256):
            return False
        lock = self._lock_args()
        with self._errors("upload", sha256):
            if size <= self.part_size:
                created = self._put_single(spool, sha256, lock)
            else:
                created = self._put_multipart(spool, sha256, lock)
        if created:
            self._ensure_locked(sha256, lock)
        return created

    def _lost_race(self, exc: ClientError, sha256: str) -> bool:
        """IfNoneMatch refused the write: an identical object landed first (or is landing)."""
        code = _error_code(exc)
        if code == "PreconditionFailed":
            return True
        return code == "ConditionalRequestConflict" and self.exists(sha256)

    def _put_single(self, spool: Path, sha256: str, lock: dict[str, Any]) -> bool:
        with open(spool, "rb") as body:
            try:
                # ChecksumSHA256 is the hash of the bytes as they arrived: S3 rejects the
                # PUT if what it received differs; IfNoneMatch makes the write create-only.
                self._client.put_object(
                    Bucket=self.bucket,
                    Key=self.key(sha256),
                    Body=body,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=_b64(bytes.fromhex(sha256)),
                    IfNoneMatch="*",
                    **lock,
                )
            except ClientError as exc:
                if self._lost_race(exc, sha256):
                    return False
                raise
        return True

    def _put_multipart(self, spool: Path, sha256: str, lock: dict[str, Any]) -> bool:
        key = self.key(sha256)
        upload_id = self._client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256", **lock
        )["UploadId"]
        created: bool | None = None
        try:
            parts = self._upload_parts(spool, key, upload_id, sha256)
            created = self._complete(key, upload_id, parts, sha256)
            return created
        finally:
            if not created:  # failed, interrupted, or lost the race: drop the parts
                self._abort_quietly(key, upload_id)

    def _part_size(self, size: int) -> int:
        """The configured part size, grown (in whole MiB) to stay within S3's 10,000 parts."""
        return max(self.part_size, -(-size // (MAX_PARTS << 20)) << 20)

    def _upload_parts(
        self, spool: Path, key: str, upload_id: str, sha256: str
    ) -> list[dict[str, Any]]:
        size = spool.stat().st_size
        part_size = self._part_size(size)
        whole = hashlib.sha256()
        slots = threading.BoundedSemaphore(self.concurrency)
        futures: list[Future[dict[str, Any]]] = []
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="overt-s3-part")
        try:
            with open(spool, "rb", buffering=0) as fh:
                for number, offset in enumerate(range(0, size, part_size), start=1):
                    length = min(part_size, size - offset)
                    checksum = _hash_part(fh, length, whole)
                    slots.acquire()
                    if any(f.done() and f.exception() for f in futures):
                        break  # stop early; result() below raises the first failure
                    job = (key, upload_id, number, (spool, offset, length), checksum)
                    future = pool.submit(self._upload_part, *job)
                    future.add_done_callback(lambda _: slots.release())
                    futures.append(future)
            parts = [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        # S3 checks each part against the checksum hashed here, so the stored bytes are the
        # bytes hashed here; this checks they are also the bytes that were received.
        if whole.hexdigest() != sha256:
            raise StoreError(f"the file {spool} changed while uploading {sha256}")
        return parts

    def _upload_part(
        self, key: str, upload_id: str, number: int, part: tuple[Path, int, int], checksum: str
    ) -> dict[str, Any]:
        with _SpoolSlice(*part) as body:
            response = self._client.upload_part(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
            )
        return {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum}

    def _complete(self, key: str, upload_id: str, parts: list[dict[str, Any]], sha256: str) -> bool:
        try:
            self._client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if self._lost_race(exc, sha256):
                return False
            raise
        return True

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError):
            pass  # cleanup_incomplete() aborts it later; the original error matters more

    # ---- housekeeping -----------------------------------------------------------------

    def cleanup_incomplete(self, stale_after: timedelta = STALE_UPLOAD_AGE) -> int:
        """Remove dead writers' spool files and abort multipart uploads older than stale_after."""
        return self._cleanup_spool() + self._abort_stale_uploads(stale_after)

    def _cleanup_spool(self) -> int:
        removed = 0
        for part in self.spool_dir.glob(f"{SPOOL_PREFIX}*.part"):
            if not is_abandoned(part, SPOOL_PREFIX):
                continue
            part.unlink(missing_ok=True)
            removed += 1
        return removed

    def _abort_stale_uploads(self, stale_after: timedelta) -> int:
        cutoff = datetime.now(UTC) - stale_after
        paginator = self._client.get_paginator("list_multipart_uploads")
        aborted = 0
        with self._errors("multipart cleanup"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}objects/"):
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"] <= cutoff:
                        self._abort_quietly(upload["Key"], upload["UploadId"])
                        aborted += 1
        return aborted


def _on_loopback(endpoint: str | None) -> bool:
    """Whether an endpoint URL names this machine (plain HTTP there crosses no network)."""
    if not endpoint:
        return False
    host = urlsplit(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
