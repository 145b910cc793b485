"""Issue 18's storm: the disk holds a finished upload once. The partial tus file becomes
the stored object itself (a hard link on the same filesystem, then the partial's name is
removed), never a copy beside it."""

from __future__ import annotations

import hashlib
import os

import pytest

from overt.evidence.store import get_store
from overt.uploads import storage

from .conftest import create, patch

SIZE = 3 << 20


@pytest.mark.embedded_only(reason="about the local store's files and inodes")
def test_a_finished_upload_is_the_stored_object_not_a_copy(server, camera, unique_bytes) -> None:
    data = unique_bytes(SIZE)
    created = create(server, camera, SIZE)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    partial = storage.tus_path(location.rsplit("/", 1)[1])
    half = patch(server, camera, location, 0, data[: SIZE // 2])
    assert half.status_code == 204, half.text
    received = os.stat(partial)
    assert received.st_size == SIZE // 2

    done = patch(server, camera, location, SIZE // 2, data[SIZE // 2 :])
    assert done.status_code == 204, done.text
    sha256 = hashlib.sha256(data).hexdigest()
    assert done.headers["Overt-Sha256"] == sha256
    stored = get_store().local_path(sha256)
    assert stored is not None
    kept = os.stat(stored)
    # The very file that received the bytes, under its one remaining name.
    assert (kept.st_dev, kept.st_ino) == (received.st_dev, received.st_ino)
    assert kept.st_nlink == 1 and kept.st_size == SIZE
    assert not partial.exists()
