"""One EvidenceStore contract, run against every backend: local disk, S3 with and without
Object Lock (a real moto_server over HTTP, see tests/support_s3.py). No Django, no DB."""

from __future__ import annotations

import hashlib
import io
import os
import random
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from overt.evidence.store import (
    EvidenceStore,
    HashMismatch,
    ObjectLocked,
    ObjectNotFound,
    StoreError,
    open_store,
)
from overt.evidence.store.base import CHUNK_SIZE
from overt.evidence.store.local import LocalStore
from overt.evidence.store.s3 import SPOOL_PREFIX, S3Store
from support_s3 import create_bucket, s3_client, store_url

BACKENDS = ["local", "s3-locked", "s3-plain"]
HOST = socket.gethostname().replace(".", "_")
BIG = 9 << 20  # > 2 x CHUNK_SIZE, and more than one 8 MiB S3 part


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def seeded_bytes(size: int, seed: int = 1234) -> bytes:
    return random.Random(seed).randbytes(size)


def read_all(store: EvidenceStore, digest: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(store.read_range(digest, start, end))


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()  # reaped, so the pid names no process (until reused, which takes a while)
    return proc.pid


def part_file(store: EvidenceStore, pid: int) -> Path:
    """Where `pid` would keep an in-progress write for this backend."""
    if isinstance(store, LocalStore):
        return store.tmp / f"{HOST}.{pid}.0123456789abcdef.part"
    assert isinstance(store, S3Store)
    return store.spool_dir / f"{SPOOL_PREFIX}{HOST}.{pid}.0123456789abcdef.part"


def leftovers(store: EvidenceStore) -> list[str]:
    """Work files and unfinished uploads a put may leave behind: there should be none."""
    if isinstance(store, LocalStore):
        return [p.name for p in store.tmp.iterdir()]
    assert isinstance(store, S3Store)
    found = [p.name for p in store.spool_dir.glob("*")] if store.spool_dir.exists() else []
    uploads = store._client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    return found + [u["Key"] for u in uploads]


def versions(store: S3Store, digest: str) -> list[dict[str, Any]]:
    listing = store._client.list_object_versions(Bucket=store.bucket, Prefix=store.key(digest))
    return listing.get("Versions", [])


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    fixture = "s3_store_url" if request.param == "s3-locked" else "s3_plain_store_url"
    url = request.getfixturevalue(fixture)
    return open_store(f"{url}&spool={tmp_path / 'spool'}")


@pytest.fixture
def big() -> bytes:
    return seeded_bytes(BIG)


# ---- put ---------------------------------------------------------------------------------


def test_put_returns_hash_and_size(store: EvidenceStore) -> None:
    data = b"body-worn video, frame 1"
    stored = store.put(io.BytesIO(data))
    assert (stored.sha256, stored.size, stored.created) == (sha(data), len(data), True)
    assert store.exists(stored.sha256)
    assert store.size(stored.sha256) == len(data)
    assert read_all(store, stored.sha256) == data
    assert leftovers(store) == []


def test_identical_content_is_stored_once(store: EvidenceStore) -> None:
    data = b"the same evidence twice"
    first = store.put(io.BytesIO(data))
    second = store.put(io.BytesIO(data))
    assert (first.created, second.created) == (True, False)
    assert second.sha256 == first.sha256
    assert list(store.iter_hashes()) == [first.sha256]
    if isinstance(store, S3Store):
        assert len(versions(store, first.sha256)) == 1  # no second version was written
    assert leftovers(store) == []


def test_concurrent_identical_puts_create_once(store: EvidenceStore, big: bytes) -> None:
    results: list[bool] = []
    errors: list[BaseException] = []

    def put() -> None:
        try:
            results.append(store.put(io.BytesIO(big)).created)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=put) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    if isinstance(store, S3Store):
        # moto_server checks If-None-Match and then commits without holding a lock, so
        # two racers can both "create" there (AWS S3 is atomic). The deterministic
        # lost-race tests below cover the guard itself.
        assert True in results and len(results) == 4
        assert {v["Size"] for v in versions(store, sha(big))} == {BIG}
    else:
        assert sorted(results) == [False, False, False, True]
    assert read_all(store, sha(big)) == big
    assert leftovers(store) == []


def test_expected_sha256_right(store: EvidenceStore) -> None:
    data = b"declared correctly"
    stored = store.put(io.BytesIO(data), expected_sha256=sha(data))
    assert stored.sha256 == sha(data)
    assert store.exists(sha(data))


def test_expected_sha256_wrong_stores_nothing(store: EvidenceStore) -> None:
    data = b"tampered in transit"
    with pytest.raises(HashMismatch) as raised:
        store.put(io.BytesIO(data), expected_sha256=sha(b"what the camera sent"))
    assert raised.value.actual == sha(data)
    assert not store.exists(sha(data))
    assert list(store.iter_hashes()) == []
    assert leftovers(store) == []


def test_interrupted_put_stores_nothing(store: EvidenceStore) -> None:
    class Interrupted(io.BytesIO):
        def readinto(self, buffer: Any) -> int:
            if self.tell() >= CHUNK_SIZE:
                raise KeyboardInterrupt
            return super().readinto(buffer)

    with pytest.raises(KeyboardInterrupt):
        store.put(Interrupted(seeded_bytes(2 * CHUNK_SIZE)))
    assert list(store.iter_hashes()) == []
    assert leftovers(store) == []


def test_empty_object(store: EvidenceStore) -> None:
    stored = store.put(io.BytesIO(b""))
    assert (stored.sha256, stored.size, stored.created) == (sha(b""), 0, True)
    assert store.size(stored.sha256) == 0
    assert read_all(store, stored.sha256) == b""
    assert read_all(store, stored.sha256, 0, 10) == b""
    assert store.rehash(stored.sha256) == sha(b"")


def test_multi_chunk_object(store: EvidenceStore, big: bytes, tmp_path: Path) -> None:
    source = tmp_path / "clip.mp4"
    source.write_bytes(big)
    seen: list[int] = []
    stored = store.put_file(source, expected_sha256=sha(big), progress=seen.append)
    assert (stored.sha256, stored.size, stored.created) == (sha(big), BIG, True)
    assert seen == sorted(seen) and seen[-1] == BIG
    chunks = list(store.read_range(stored.sha256))
    assert len(chunks) > 1 and max(map(len, chunks)) <= CHUNK_SIZE  # streamed, not buffered
    assert b"".join(chunks) == big
    across = (CHUNK_SIZE - 10, CHUNK_SIZE + 10)
    assert read_all(store, stored.sha256, *across) == big[across[0] : across[1]]
    assert store.rehash(stored.sha256) == sha(big)
    assert leftovers(store) == []


# ---- reads -------------------------------------------------------------------------------

RANGE_DATA = bytes(range(256)) * 4


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, RANGE_DATA),
        (0, len(RANGE_DATA), RANGE_DATA),
        (100, 200, RANGE_DATA[100:200]),
        (len(RANGE_DATA) - 1, None, RANGE_DATA[-1:]),
        (len(RANGE_DATA) - 1, len(RANGE_DATA), RANGE_DATA[-1:]),
        (500, len(RANGE_DATA) + 100, RANGE_DATA[500:]),  # end past the end: to the end
        (len(RANGE_DATA), None, b""),
        (len(RANGE_DATA) + 10, None, b""),  # start beyond the end
        (len(RANGE_DATA) + 10, len(RANGE_DATA) + 20, b""),
        (50, 50, b""),
        (60, 50, b""),
    ],
    ids=[
        "full",
        "full-explicit",
        "middle",
        "last-byte",
        "last-byte-explicit",
        "end-past-end",
        "start-at-end",
        "start-beyond-end",
        "both-beyond-end",
        "empty-range",
        "inverted-range",
    ],
)
def test_read_range(store: EvidenceStore, start: int, end: int | None, expected: bytes) -> None:
    digest = store.put(io.BytesIO(RANGE_DATA)).sha256
    assert read_all(store, digest, start, end) == expected


def test_missing_object(store: EvidenceStore) -> None:
    missing = sha(b"never stored")
    assert not store.exists(missing)
    with pytest.raises(ObjectNotFound):
        store.size(missing)
    with pytest.raises(ObjectNotFound):
        store.read_range(missing)
    with pytest.raises(KeyError):  # ObjectNotFound is also a KeyError
        store.read_range(missing, 5, 5)


def test_bad_hash_is_refused(store: EvidenceStore) -> None:
    with pytest.raises(ValueError):
        store.exists("../../etc/passwd")
    with pytest.raises(ValueError):
        store.put(io.BytesIO(b"x"), expected_sha256="ABC")


def test_iter_hashes_and_rehash(store: EvidenceStore) -> None:
    blobs = [f"clip {i}".encode() for i in range(5)]
    digests = {store.put(io.BytesIO(blob)).sha256 for blob in blobs}
    assert sorted(store.iter_hashes()) == sorted(digests)
    for digest in digests:
        assert store.rehash(digest) == digest


def test_location_names_the_object(store: EvidenceStore) -> None:
    digest = store.put(io.BytesIO(b"where am I")).sha256
    location = store.location(digest)
    assert location.endswith(f"{digest[:2]}/{digest[2:4]}/{digest}")
    if isinstance(store, S3Store):
        assert (
            location == f"s3://{store.bucket}/evidence/objects/{digest[:2]}/{digest[2:4]}/{digest}"
        )


# ---- purge -------------------------------------------------------------------------------


def is_locked(store: EvidenceStore) -> bool:
    return isinstance(store, S3Store) and store.lock_policy() is not None


def test_purge_removes_the_object_for_good(store: EvidenceStore) -> None:
    keep = store.put(io.BytesIO(b"another officer's clip")).sha256
    digest = store.put(io.BytesIO(b"non-evidential, 31 days old")).sha256
    if is_locked(store):
        # Object Lock: refused, nothing removed, and the error says until when.
        with pytest.raises(ObjectLocked) as refused:
            store.purge(digest)
        assert refused.value.retain_until is not None
        assert refused.value.retain_until > datetime.now(UTC) + timedelta(days=30)
        assert str(refused.value.retain_until.date()) in str(refused.value)
        assert store.lock_until(digest) == refused.value.retain_until
        assert read_all(store, digest) == b"non-evidential, 31 days old"
        return
    assert store.lock_until(digest) is None
    store.purge(digest)
    assert not store.exists(digest)
    with pytest.raises(ObjectNotFound):
        store.read_range(digest)
    assert list(store.iter_hashes()) == [keep]
    assert read_all(store, keep) == b"another officer's clip"
    if isinstance(store, S3Store):
        assert versions(store, digest) == []  # no version left behind a delete marker


def test_purge_is_idempotent(store: EvidenceStore) -> None:
    never = sha(b"never stored")
    store.purge(never)  # already gone: not an error, so a retry can finish a purge
    assert store.lock_until(never) is None
    if is_locked(store):
        return
    digest = store.put(io.BytesIO(b"purged twice")).sha256
    store.purge(digest)
    store.purge(digest)
    assert not store.exists(digest)


def test_purged_content_can_be_stored_again(store: EvidenceStore) -> None:
    if is_locked(store):
        pytest.skip("locked objects cannot be purged")
    data = b"the same bytes, ingested again after deletion"
    digest = store.put(io.BytesIO(data)).sha256
    store.purge(digest)
    again = store.put(io.BytesIO(data))
    assert (again.sha256, again.created) == (digest, True)
    assert read_all(store, digest) == data


def test_purge_refuses_a_bad_hash(store: EvidenceStore) -> None:
    with pytest.raises(ValueError):
        store.purge("../../etc/passwd")


# ---- housekeeping ------------------------------------------------------------------------


def test_cleanup_incomplete_removes_only_dead_writers(store: EvidenceStore) -> None:
    dead = part_file(store, dead_pid())
    live = part_file(store, os.getpid())
    for path in (dead, live):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a video")
    assert store.cleanup_incomplete() == 1
    assert not dead.exists()
    assert live.exists()


# ---- local backend specifics -------------------------------------------------------------


def test_local_objects_are_read_only_and_never_rewritten(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    data = b"original"
    digest = store.put(io.BytesIO(data)).sha256
    path = store.path(digest)
    before = path.stat()
    assert before.st_mode & 0o222 == 0
    assert store.put(io.BytesIO(data)).created is False
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_nlink) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_nlink,
    )


def test_local_purge_failure_is_a_store_error_and_keeps_the_object(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    digest = store.put(io.BytesIO(b"cannot be unlinked")).sha256
    path = store.path(digest)
    with deny_unlink(path.parent):
        with pytest.raises(StoreError, match="purging"):
            store.purge(digest)
    assert read_all(store, digest) == b"cannot be unlinked"
    assert path.stat().st_mode & 0o222 == 0  # left read-only, as it was
    store.purge(digest)  # the next attempt finishes it
    assert not store.exists(digest)


@contextmanager
def deny_unlink(folder: Path) -> Iterator[None]:
    """Make unlinking in `folder` really fail: a read-only directory, or, for root (whom
    permissions do not stop), the immutable attribute."""
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)
        return
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if made.returncode != 0:
        message = f"cannot make {folder} immutable as root: {made.stderr.strip()}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


# ---- S3 specifics ------------------------------------------------------------------------


@pytest.fixture
def locked_store(s3_store_url: str, tmp_path: Path) -> S3Store:
    store = open_store(f"{s3_store_url}&spool={tmp_path / 'spool'}")
    assert isinstance(store, S3Store)
    return store


def assert_locked_for(store: S3Store, digest: str, days: int, mode: str = "COMPLIANCE") -> None:
    retention = store.retention(digest)
    assert retention is not None
    expected = datetime.now(UTC) + timedelta(days=days)
    assert retention[0] == mode
    assert abs(retention[1] - expected) < timedelta(minutes=5)


@pytest.mark.parametrize("size", [100, BIG], ids=["single-put", "multipart"])
def test_s3_locked_objects_get_retention(locked_store: S3Store, size: int) -> None:
    digest = locked_store.put(io.BytesIO(seeded_bytes(size))).sha256
    # The bucket's default is GOVERNANCE for 1 day: the store's own policy is stricter.
    assert_locked_for(locked_store, digest, days=31)


@pytest.mark.parametrize("size", [100, BIG], ids=["single-put", "multipart"])
def test_s3_locked_object_version_cannot_be_deleted(locked_store: S3Store, size: int) -> None:
    data = seeded_bytes(size)
    digest = locked_store.put(io.BytesIO(data)).sha256
    (version,) = versions(locked_store, digest)
    client = locked_store._client
    for bypass in (False, True):  # COMPLIANCE: not even a governance bypass may delete
        with pytest.raises(ClientError) as refused:
            client.delete_object(
                Bucket=locked_store.bucket,
                Key=locked_store.key(digest),
                VersionId=version["VersionId"],
                BypassGovernanceRetention=bypass,
            )
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert read_all(locked_store, digest) == data


def test_s3_lock_days_and_bucket_default(moto_endpoint: str, s3_store_url: str) -> None:
    bucket = s3_store_url.split("/")[2]
    store = open_store(store_url(moto_endpoint, bucket, lock_days="5", lock_mode="GOVERNANCE"))
    assert isinstance(store, S3Store)
    digest = store.put(io.BytesIO(b"five days")).sha256
    assert_locked_for(store, digest, days=5, mode="GOVERNANCE")

    # moto only lets an empty bucket change its lock configuration (AWS allows it any time).
    bucket = create_bucket(moto_endpoint, locked=True)
    s3_client(moto_endpoint).put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 90}},
        },
    )
    stricter = open_store(store_url(moto_endpoint, bucket, lock_days="5", lock_mode="GOVERNANCE"))
    assert isinstance(stricter, S3Store)
    digest = stricter.put(io.BytesIO(b"the bucket knows better")).sha256
    assert_locked_for(stricter, digest, days=90)  # never weaker than the bucket's rule


def test_s3_plain_bucket_has_no_retention(s3_plain_store_url: str) -> None:
    store = open_store(s3_plain_store_url)
    assert isinstance(store, S3Store)
    digest = store.put(io.BytesIO(b"unlocked")).sha256
    assert store.lock_policy() is None
    assert store.retention(digest) is None


def test_s3_lock_required_but_missing_refuses(s3_plain_store_url: str) -> None:
    store = open_store(f"{s3_plain_store_url}&lock_mode=COMPLIANCE")
    with pytest.raises(StoreError, match="Object Lock"):
        store.put(io.BytesIO(b"must not be stored unlocked"))
    assert list(store.iter_hashes()) == []


def test_s3_governance_lock_is_never_bypassed_then_purge_completes(
    moto_endpoint: str, s3_store_url: str, tmp_path: Path
) -> None:
    bucket = s3_store_url.split("/")[2]
    store = open_store(store_url(moto_endpoint, bucket, lock_days="1", lock_mode="GOVERNANCE"))
    assert isinstance(store, S3Store)
    digest = store.put(io.BytesIO(b"locked for a day")).sha256
    with pytest.raises(ObjectLocked, match="GOVERNANCE") as refused:
        store.purge(digest)
    assert refused.value.mode == "GOVERNANCE"
    assert store.exists(digest)
    # An administrator with the right shortens the lock; the store never bypasses it itself.
    (version,) = versions(store, digest)
    s3_client(moto_endpoint).put_object_retention(
        Bucket=bucket,
        Key=store.key(digest),
        VersionId=version["VersionId"],
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": datetime.now(UTC) - timedelta(1)},
        BypassGovernanceRetention=True,
    )
    assert store.lock_until(digest) is None
    store.purge(digest)
    assert not store.exists(digest) and versions(store, digest) == []


def test_s3_legal_hold_blocks_purge(locked_store: S3Store, moto_endpoint: str) -> None:
    digest = locked_store.put(io.BytesIO(b"under a legal hold")).sha256
    (version,) = versions(locked_store, digest)
    s3_client(moto_endpoint).put_object_legal_hold(
        Bucket=locked_store.bucket,
        Key=locked_store.key(digest),
        VersionId=version["VersionId"],
        LegalHold={"Status": "ON"},
    )
    with pytest.raises(ObjectLocked) as refused:
        locked_store.lock_until(digest)
    assert refused.value.legal_hold
    with pytest.raises(ObjectLocked, match="legal hold"):
        locked_store.purge(digest)
    assert locked_store.exists(digest)


def test_s3_purge_removes_every_version_and_marker(s3_plain_store_url: str) -> None:
    store = open_store(s3_plain_store_url)
    assert isinstance(store, S3Store)
    client, key = store._client, store.key(sha(b"versioned"))
    client.put_bucket_versioning(Bucket=store.bucket, VersioningConfiguration={"Status": "Enabled"})
    digest = store.put(io.BytesIO(b"versioned")).sha256
    client.put_object(Bucket=store.bucket, Key=key, Body=b"versioned")  # a racing twin
    client.delete_object(Bucket=store.bucket, Key=key)  # a stray delete marker
    listing = client.list_object_versions(Bucket=store.bucket, Prefix=key)
    assert len(listing["Versions"]) == 2 and len(listing["DeleteMarkers"]) == 1
    store.purge(digest)
    listing = client.list_object_versions(Bucket=store.bucket, Prefix=key)
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []


def test_s3_write_once_guard_is_enforced_by_the_server(locked_store: S3Store) -> None:
    digest = locked_store.put(io.BytesIO(b"first")).sha256
    with pytest.raises(ClientError) as refused:
        locked_store._client.put_object(
            Bucket=locked_store.bucket,
            Key=locked_store.key(digest),
            Body=b"overwrite attempt",
            IfNoneMatch="*",
        )
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"


@pytest.mark.parametrize(
    ("size", "operation"),
    [(100, "PutObject"), (BIG, "CompleteMultipartUpload")],
    ids=["single-put", "multipart"],
)
def test_s3_lost_race_is_not_a_second_write(
    locked_store: S3Store, moto_endpoint: str, size: int, operation: str
) -> None:
    """Another writer lands the same object between our existence check and our write."""
    data = seeded_bytes(size)
    rival = s3_client(moto_endpoint)

    def rival_writes_first(**_: Any) -> None:
        rival.put_object(Bucket=locked_store.bucket, Key=locked_store.key(sha(data)), Body=data)

    locked_store._client.meta.events.register_first(
        f"before-call.s3.{operation}", rival_writes_first
    )
    stored = locked_store.put(io.BytesIO(data))
    assert (stored.sha256, stored.created) == (sha(data), False)
    assert len(versions(locked_store, sha(data))) == 1  # the guard refused our write
    assert read_all(locked_store, sha(data)) == data
    assert leftovers(locked_store) == []  # the refused multipart upload was aborted


def test_s3_stale_multipart_uploads_are_aborted(locked_store: S3Store) -> None:
    client = locked_store._client
    key = locked_store.key(sha(b"abandoned"))
    client.create_multipart_upload(Bucket=locked_store.bucket, Key=key)
    (upload,) = client.list_multipart_uploads(Bucket=locked_store.bucket)["Uploads"]
    # A fresh upload may belong to a live writer and is kept. moto reports every upload as
    # initiated in 2010, so there it already counts as stale.
    stale = upload["Initiated"] < datetime.now(UTC) - timedelta(days=1)
    assert locked_store.cleanup_incomplete() == int(stale)
    assert locked_store.cleanup_incomplete(stale_after=timedelta(0)) == int(not stale)
    assert leftovers(locked_store) == []


def test_s3_credentials_are_not_in_the_url(s3_store_url: str) -> None:
    store = open_store(s3_store_url)
    assert "secret" not in store.url and "access_key" not in store.url
    assert store.url.startswith("s3://overt-test-")


def test_s3_url_parsing_keeps_plus_and_decodes_percent() -> None:
    store = open_store(
        "s3://bucket/a/b/?region=eu-west-2&access_key=AK&secret_key=x%2Fy+z%26&lock_days=7"
    )
    assert isinstance(store, S3Store)
    credentials = store._client._request_signer._credentials.get_frozen_credentials()
    assert (credentials.access_key, credentials.secret_key) == ("AK", "x/y+z&")
    assert (store.bucket, store.prefix, store.lock_days, store.lock_required) == (
        "bucket",
        "a/b/",
        7,
        True,
    )
    assert store.url == "s3://bucket/a/b/?region=eu-west-2&lock_days=7"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("lock_days=0", "positive integer"),
        ("lock_mode=SOMETIMES", "COMPLIANCE or GOVERNANCE"),
        ("lock_dayz=3", "unknown"),
        ("access_key=only-half", "both"),
        ("part_mb=1", "at least 5"),
    ],
)
def test_s3_bad_url_parameters(query: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(f"s3://bucket/prefix?{query}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unreachable_store(tmp_path: Path) -> Iterator[EvidenceStore]:
    url = store_url(f"http://127.0.0.1:{free_port()}", "nowhere")
    yield open_store(f"{url}&spool={tmp_path / 'spool'}")


def test_s3_unreachable_endpoint_is_a_clear_store_error(unreachable_store: S3Store) -> None:
    with pytest.raises(StoreError, match="cannot reach the endpoint") as raised:
        unreachable_store.exists(sha(b"x"))
    assert "nowhere" in str(raised.value) and "127.0.0.1" in str(raised.value)
    with pytest.raises(StoreError, match="cannot reach the endpoint"):
        unreachable_store.put(io.BytesIO(b"evidence"))
    assert list(unreachable_store.spool_dir.glob("*")) == []


def test_s3_missing_bucket_is_a_clear_store_error(moto_endpoint: str) -> None:
    store = open_store(store_url(moto_endpoint, "no-such-bucket-here"))
    with pytest.raises(StoreError, match="does not exist"):
        store.exists(sha(b"x"))
    with pytest.raises(StoreError, match="does not exist"):
        store.put(io.BytesIO(b"evidence"))


def test_local_copy_gives_a_readable_file_and_cleans_up(store: EvidenceStore) -> None:
    data = os.urandom(70_000)
    stored = store.put(io.BytesIO(data))
    with store.local_copy(stored.sha256) as path:
        assert path.read_bytes() == data
        kept = path
    assert kept.exists() == (store.local_path(stored.sha256) is not None)
