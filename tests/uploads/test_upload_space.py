"""Issue 11 item 9: the room for an upload is reserved once, when it is created. At
completion the file is hard-linked into the store on the same disk, which takes no
more room, so it must not be counted against the free space a second time."""

from __future__ import annotations

import hashlib
import shutil

from overt.evidence.store import get_store
from overt.uploads import storage
from overt.uploads.models import Upload

from .conftest import create, patch

SIZE = 120 << 20
# What other writers on this disk (the other test worker) may use up while the test runs.
# Counting the upload twice needs SIZE - MARGIN more than is free, so the bug still shows.
MARGIN = 100 << 20


def test_an_upload_admitted_with_room_is_not_refused_after_its_last_byte(
    server, camera, unique_bytes, settings_env
) -> None:
    data = unique_bytes(SIZE)
    assert shutil.disk_usage(storage.root()).free > 2 * SIZE + MARGIN
    free = storage.free_bytes()
    # Room for this upload and the reserve, with MARGIN to spare; but not for counting
    # the upload twice (that would need SIZE - MARGIN more than is free).
    reserve = free - SIZE - MARGIN
    settings_env(min_free_bytes=reserve, disk_warning_free_bytes=reserve)

    created = create(server, camera, SIZE)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    upload_id = location.rsplit("/", 1)[1]
    assert get_store().room_to_adopt(storage.tus_path(upload_id)) == 0, (
        "the test needs the upload folder and the store on one filesystem"
    )

    done = patch(server, camera, location, 0, data)
    assert done.status_code == 204, done.text
    assert done.headers["Overt-Upload-Status"] == "stored"
    assert done.headers["Overt-Sha256"] == hashlib.sha256(data).hexdigest()
    assert Upload.objects.get(pk=upload_id).status == "stored"
