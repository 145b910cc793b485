"""A Swift GET of a clip streams it in chunks, from its staged file and, once the
recording is complete, from the evidence store: the local store in the embedded run,
S3 (moto_server) in the scaled run. Nothing reads the whole object into memory."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from django.test import AsyncClient, Client
from swiftclient import client as swift

from overt.evidence.store import get_store
from overt.evidence.store.base import CHUNK_SIZE
from overt.evidence.store.local import LocalStore
from overt.uploads.axis.protocol import axis_key
from overt.uploads.models import AxisContainer, AxisObject
from support_async import run_async

CONTAINER = "MP100_CAM-1_20240501_140000"
CLIP = "20240501_140000_1.mkv"
START = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)


def _get_sync(path: str, token: str) -> tuple[bool, list[bytes]]:
    response = Client().get(path, headers={"X-Auth-Token": token})
    assert response.status_code == 200, response.content
    if not response.streaming:
        return False, [response.content]
    return True, list(response.streaming_content)


def _get_async(path: str, token: str) -> tuple[bool, list[bytes]]:
    """Through Django's ASGI handler: a sync iterator there would be read whole first."""

    async def fetch() -> tuple[bool, list[bytes]]:
        response = await AsyncClient().get(path, headers={"X-Auth-Token": token})
        assert response.status_code == 200
        assert response.streaming and response.is_async
        return True, [chunk async for chunk in response.streaming_content]

    return run_async(fetch())


@pytest.mark.scaled
def test_get_streams_a_clip_in_chunks_from_staging_and_from_the_store(
    server, people, unique_bytes
) -> None:
    url, token = swift.get_auth(f"{server}/auth/v1.0", "axis", axis_key(), auth_version="1")
    data = unique_bytes(CHUNK_SIZE + 123_457)  # more than one chunk
    epoch = int(START.timestamp())
    swift.put_container(
        url,
        token,
        CONTAINER,
        headers={
            "X-Container-Meta-Userid": "MP100",
            "X-Container-Meta-Bwcserialnumber": "CAM-1",
            "X-Container-Meta-Triggerontime": str(epoch),
        },
    )
    swift.put_object(
        url,
        token,
        CONTAINER,
        CLIP,
        contents=data,
        headers={
            "X-Object-Meta-Starttime": str(epoch),
            "X-Object-Meta-Stoptime": str(epoch + 30),
        },
    )
    path = f"/swift/v1/AUTH_axis/{CONTAINER}/{CLIP}"

    # Staged, before the recording is complete.
    streaming, chunks = _get_sync(path, token)
    assert streaming and len(chunks) > 1 and b"".join(chunks) == data

    swift.post_container(url, token, CONTAINER, headers={"X-Container-Meta-Status": "Complete"})
    assert AxisContainer.objects.get(name=CONTAINER).status == AxisContainer.Status.COMPLETE
    stored = AxisObject.objects.select_related("original").get(name=CLIP)
    assert not Path(stored.staged_path).exists()  # unstaged: only the store has it now
    assert stored.original is not None and get_store().exists(stored.original.sha256)

    # From the store (local or S3), under WSGI and under ASGI.
    streaming, chunks = _get_sync(path, token)
    assert streaming and len(chunks) > 1 and b"".join(chunks) == data
    streaming, chunks = _get_async(path, token)
    assert streaming and len(chunks) > 1 and b"".join(chunks) == data

    # And over the wire, from `overt serve`'s ASGI app.
    with requests.get(
        f"{url}/{CONTAINER}/{CLIP}", headers={"X-Auth-Token": token}, stream=True, timeout=60
    ) as response:
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == len(data)
        assert response.headers["ETag"] == hashlib.md5(data).hexdigest()
        received = b"".join(response.iter_content(1 << 20))
    assert received == data
    head = requests.head(f"{url}/{CONTAINER}/{CLIP}", headers={"X-Auth-Token": token}, timeout=30)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(data)
    assert head.content == b""


def test_get_of_a_clip_missing_from_the_store_is_a_clear_error(
    server, people, unique_bytes
) -> None:
    """A clip whose bytes are gone from the store is a problem answer, not a truncated
    body. (Local store only: S3's Object Lock rightly refuses the purge that fakes it.)"""
    if not isinstance(get_store(), LocalStore):
        pytest.skip("S3's Object Lock refuses the purge that fakes a lost object")
    url, token = swift.get_auth(f"{server}/auth/v1.0", "axis", axis_key(), auth_version="1")
    data = unique_bytes(1000)
    epoch = int(START.timestamp())
    name = "MP100_CAM-1_20240501_150000"
    swift.put_container(
        url,
        token,
        name,
        headers={
            "X-Container-Meta-Userid": "MP100",
            "X-Container-Meta-Bwcserialnumber": "CAM-1",
            "X-Container-Meta-Triggerontime": str(epoch),
            "X-Container-Meta-Status": "Transferring",
        },
    )
    swift.put_object(
        url,
        token,
        name,
        CLIP,
        contents=data,
        headers={
            "X-Object-Meta-Starttime": str(epoch),
            "X-Object-Meta-Stoptime": str(epoch + 30),
        },
    )
    swift.post_container(url, token, name, headers={"X-Container-Meta-Status": "Complete"})
    stored = AxisObject.objects.select_related("original").get(container__name=name, name=CLIP)
    get_store().purge(stored.original.sha256)  # as if lost from the store's disk
    response = requests.get(f"{url}/{name}/{CLIP}", headers={"X-Auth-Token": token}, timeout=30)
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "missing from the evidence store" in response.json()["detail"]
