"""`EvidenceStore.adopt`: a complete file that its caller owns becomes a stored object,
on every backend (local disk; S3 with and without Object Lock, on a real moto_server).
The local store links the file itself in (no second copy), or copies it across
filesystems; S3 uploads it without a spool. No Django, no DB."""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest

from overt.evidence.store import EvidenceStore, HashMismatch, open_store
from overt.evidence.store.base import SourceReadError, StoreError
from overt.evidence.store.local import LocalStore
from overt.evidence.store.s3 import S3Store

BACKENDS = ["local", "s3-locked", "s3-plain"]
BIG = 9 << 20  # more than one 8 MiB S3 part, and more than two hashing chunks


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_all(store: EvidenceStore, digest: str) -> bytes:
    return b"".join(store.read_range(digest))


def leftovers(store: EvidenceStore) -> list[str]:
    """Work files and unfinished uploads: adopting leaves none."""
    if isinstance(store, LocalStore):
        return [p.name for p in store.tmp.iterdir()]
    assert isinstance(store, S3Store)
    found = [p.name for p in store.spool_dir.glob("*")] if store.spool_dir.exists() else []
    uploads = store._client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    return found + [u["Key"] for u in uploads]


def finished_file(folder: Path, data: bytes, name: str = "upload.part") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    path.chmod(0o600)
    return path


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    fixture = "s3_store_url" if request.param == "s3-locked" else "s3_plain_store_url"
    url = request.getfixturevalue(fixture)
    return open_store(f"{url}&spool={tmp_path / 'spool'}")


# ---- every backend -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1000, BIG], ids=["empty", "small", "multipart"])
def test_adopt_stores_the_file_byte_for_byte(
    store: EvidenceStore, tmp_path: Path, size: int
) -> None:
    data = random.Random(size).randbytes(size)
    path = finished_file(tmp_path / "uploads", data)
    stored = store.adopt(path)
    assert (stored.sha256, stored.size, stored.created) == (sha(data), size, True)
    assert read_all(store, stored.sha256) == data
    assert store.rehash(stored.sha256) == sha(data)
    assert path.read_bytes() == data  # the caller's name for it is left to the caller
    assert leftovers(store) == []


def test_adopt_with_the_right_hash(store: EvidenceStore, tmp_path: Path) -> None:
    data = b"a clip, declared"
    path = finished_file(tmp_path / "uploads", data)
    for hashed in (False, True):
        stored = store.adopt(path, expected_sha256=sha(data), hashed=hashed)
        assert stored.sha256 == sha(data)
    assert list(store.iter_hashes()) == [sha(data)]


def test_adopt_stores_identical_content_once(store: EvidenceStore, tmp_path: Path) -> None:
    data = b"the same clip from two docks"
    first = store.adopt(finished_file(tmp_path / "a", data))
    second = store.adopt(finished_file(tmp_path / "b", data))
    assert (first.created, second.created) == (True, False)
    assert list(store.iter_hashes()) == [first.sha256]
    if isinstance(store, S3Store):
        listing = store._client.list_object_versions(
            Bucket=store.bucket, Prefix=store.key(first.sha256)
        )
        assert len(listing.get("Versions", [])) == 1


def test_adopt_with_a_wrong_hash_stores_nothing(store: EvidenceStore, tmp_path: Path) -> None:
    data = b"bytes that are not what was declared"
    path = finished_file(tmp_path / "uploads", data)
    wrong = sha(b"something else")
    with pytest.raises(HashMismatch) as exc:
        store.adopt(path, expected_sha256=wrong)
    assert (exc.value.declared, exc.value.actual) == (wrong, sha(data))
    assert list(store.iter_hashes()) == []
    assert not store.exists(sha(data))
    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o200  # left as it was: the caller decides what to do
    assert leftovers(store) == []


def test_adopt_refuses_bad_arguments(store: EvidenceStore, tmp_path: Path) -> None:
    path = finished_file(tmp_path / "uploads", b"x")
    with pytest.raises(ValueError, match="needs expected_sha256"):
        store.adopt(path, hashed=True)
    with pytest.raises(ValueError, match="not a lowercase hex SHA-256"):
        store.adopt(path, expected_sha256="ABC")
    with pytest.raises(SourceReadError):
        store.adopt(tmp_path / "missing.part")
    assert list(store.iter_hashes()) == []


# ---- local backend specifics -------------------------------------------------------------


def test_local_adopt_links_the_file_itself_read_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    data = b"one copy on the disk, not two"
    path = finished_file(tmp_path / "uploads", data)
    assert store.room_to_adopt(path) == 0
    stored = store.adopt(path, expected_sha256=sha(data), hashed=True)
    obj = store.path(stored.sha256)
    assert os.stat(obj).st_ino == os.stat(path).st_ino
    assert os.stat(obj).st_nlink == 2
    assert obj.stat().st_mode & 0o222 == 0
    path.unlink()  # the upload's own name goes; the object stays
    assert read_all(store, stored.sha256) == data
    assert obj.stat().st_nlink == 1
    assert store.adopt(finished_file(tmp_path / "again", data)).created is False
    assert os.stat(obj).st_nlink == 1  # an identical file is not linked a second time


def test_local_adopt_does_not_follow_a_symlink(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    target = finished_file(tmp_path / "elsewhere", b"not the caller's file")
    link = tmp_path / "uploads" / "upload.part"
    link.parent.mkdir()
    link.symlink_to(target)
    with pytest.raises(SourceReadError):
        store.adopt(link)
    assert list(store.iter_hashes()) == []
    assert target.stat().st_mode & 0o200


def test_local_adopt_across_filesystems_copies(tmp_path: Path) -> None:
    """A store on another filesystem than the file (here the file is on /dev/shm)."""
    store = LocalStore(tmp_path / "store")
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(store.objects).st_dev:
        pytest.skip("needs a second filesystem at /dev/shm")
    data = random.Random(3).randbytes(BIG)
    with tempfile.TemporaryDirectory(dir=shm) as other:
        path = finished_file(Path(other), data)
        assert store.room_to_adopt(path) == len(data)
        stored = store.adopt(path, expected_sha256=sha(data), hashed=True)
        obj = store.path(stored.sha256)
        assert (stored.created, obj.read_bytes()) == (True, data)
        assert obj.stat().st_ino != path.stat().st_ino
        assert obj.stat().st_mode & 0o222 == 0
        assert path.stat().st_mode & 0o200  # the caller's file is untouched
        with pytest.raises(HashMismatch):  # a copy is always hashed again
            store.adopt(finished_file(Path(other), b"other", "b.part"), expected_sha256=sha(data))
    assert leftovers(store) == []


def test_local_adopt_copies_where_link_says_another_mount(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One filesystem, two mounts (a bind mount): link() of the file says EXDEV though
    the device numbers agree. Injected: the first link() fails so; the copy's own link
    from tmp/ is real."""
    store = LocalStore(tmp_path / "store")
    data = b"one filesystem, mounted twice"
    path = finished_file(tmp_path / "uploads", data)
    real_link = os.link
    refused: list[object] = []

    def other_mount(src: object, dst: object, **kwargs: object) -> None:
        if not refused:
            refused.append(src)
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_link(src, dst, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "link", other_mount)
    stored = store.adopt(path, expected_sha256=sha(data), hashed=True)
    monkeypatch.undo()
    assert refused == [path]
    obj = store.path(stored.sha256)
    assert obj.read_bytes() == data
    assert obj.stat().st_ino != path.stat().st_ino
    assert obj.stat().st_mode & 0o222 == 0
    assert leftovers(store) == []


def test_s3_adopt_uses_no_spool(s3_store_url: str, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    store = open_store(f"{s3_store_url}&spool={spool}")
    data = random.Random(5).randbytes(BIG)
    path = finished_file(tmp_path / "uploads", data)
    assert store.room_to_adopt(path) == len(data)
    stored = store.adopt(path)
    assert read_all(store, stored.sha256) == data
    assert not spool.exists()  # read from the file itself, never copied to a spool


def test_s3_adopt_of_a_hashed_upload_keeps_its_sha256_as_the_checksum(
    s3_store_url: str, tmp_path: Path
) -> None:
    """A finished tus upload, hashed as its bytes arrived, is not read again to be hashed:
    it goes up in one PUT carrying that SHA-256, which S3 checks against the bytes it
    receives and keeps as the object's checksum (what ties the object to its key)."""
    store = open_store(f"{s3_store_url}&part_mb=16&spool={tmp_path / 'spool'}")
    data = random.Random(7).randbytes(BIG)  # one PUT with 16 MiB parts
    path = finished_file(tmp_path / "uploads", data)
    stored = store.adopt(path, expected_sha256=sha(data), hashed=True)
    assert (stored.sha256, stored.size, stored.created) == (sha(data), len(data), True)
    assert isinstance(store, S3Store)
    head = store._client.head_object(
        Bucket=store.bucket, Key=store.key(stored.sha256), ChecksumMode="ENABLED"
    )
    assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(sha(data))).decode()
    assert read_all(store, stored.sha256) == data
    assert store.adopt(path, expected_sha256=sha(data), hashed=True).created is False
    assert leftovers(store) == []


def test_s3_adopt_of_a_hashed_upload_in_parts_refuses_bytes_that_changed(
    s3_store_url: str, tmp_path: Path
) -> None:
    """In parts, each part's checksum is made from the file as it is sent, and the whole
    file is hashed on the way: bytes that are no longer the ones hashed as they arrived
    (changed on disk since) are refused before the upload completes, and nothing stays."""
    store = open_store(f"{s3_store_url}&spool={tmp_path / 'spool'}")  # 8 MiB parts: 2
    data = random.Random(8).randbytes(BIG)
    changed = bytearray(data)
    changed[-1] ^= 1
    path = finished_file(tmp_path / "uploads", bytes(changed))
    with pytest.raises(StoreError, match="changed while uploading"):
        store.adopt(path, expected_sha256=sha(data), hashed=True)
    assert not store.exists(sha(data))
    assert list(store.iter_hashes()) == []
    assert leftovers(store) == []


def test_s3_bodies_with_their_sha256_are_not_hashed_again_to_sign(
    s3_store_url: str, tmp_path: Path
) -> None:
    """Over plain HTTP botocore hashed every body again for the signature. A PUT or part
    that carries x-amz-checksum-sha256 (a signed header, checked by S3 against the body)
    is signed as UNSIGNED-PAYLOAD, as over HTTPS; requests without one stay signed."""
    store = open_store(f"{s3_store_url}&part_mb=5&spool={tmp_path / 'spool'}")
    assert isinstance(store, S3Store)
    sent: list[tuple[str, bytes, bool]] = []

    def record(request: Any, **_: Any) -> None:
        checksum = "x-amz-checksum-sha256" in request.headers
        sent.append((request.method, request.headers["X-Amz-Content-SHA256"], checksum))

    store._client.meta.events.register("before-send.s3", record)
    for size in (1000, BIG):  # one PUT; then parts of 5 MiB
        data = random.Random(size).randbytes(size)
        path = finished_file(tmp_path / "uploads", data, f"{size}.part")
        assert store.adopt(path, expected_sha256=sha(data), hashed=True).sha256 == sha(data)
        assert read_all(store, sha(data)) == data
    with_checksum = [payload for _, payload, checksum in sent if checksum]
    assert len(with_checksum) == 3  # the PUT and two parts
    assert set(with_checksum) == {b"UNSIGNED-PAYLOAD"}
    assert all(payload != b"UNSIGNED-PAYLOAD" for _, payload, checksum in sent if not checksum)


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [
        ("http://127.0.0.1:5591", True),
        ("http://127.8.9.1", True),
        ("http://[::1]:9000", True),
        ("http://localhost:9000", True),
        ("http://10.0.0.5:9000", False),
        ("http://s3.force.internal", False),
        ("http://127.0.0.1.example.org", False),
        (None, False),
    ],
)
def test_bodies_go_unsigned_only_to_an_endpoint_on_this_machine(
    endpoint: str | None, loopback: bool
) -> None:
    """Across a network over plain HTTP an S3-compatible service that ignored the
    checksum header would leave nothing checking the body: signed in full there."""
    from overt.evidence.store.s3 import _on_loopback

    assert _on_loopback(endpoint) is loopback
