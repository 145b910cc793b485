"""Issue 11 item 8: impossible times are refused at the door (tus Upload-Metadata, Swift
metadata headers) with 400 before any byte is accepted, and a failure at completion
releases the lock and leaves the upload to be finished, never stranded."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from swiftclient import client as swift
from swiftclient.exceptions import ClientException

from overt.uploads import completion, storage
from overt.uploads.axis.protocol import axis_key
from overt.uploads.models import AxisContainer, AxisObject, Upload

from .conftest import TUS, create, head, metadata, patch

IMPOSSIBLE = [
    "9999-12-31T23:59:59Z",  # parses, then overflows at completion (start + duration)
    "9999-12-31T23:59:59-23:59",  # past the calendar's edge once in UTC
    "0001-01-01T00:00:00+23:59",  # before it
    "1970-01-01T00:00:00Z",  # a reset camera clock
    "2999-01-01T00:00:00Z",  # far future
    "2024-05-01T10:00:00+24:00",  # no such offset
]
CONTAINER = "MP100_CAM-1_20240501_140000"
EPOCH = int(datetime(2024, 5, 1, 14, tzinfo=UTC).timestamp())


def _tus_files() -> set[Path]:
    return set(storage.folder("tus").glob("*.part"))


def _staged() -> set[Path]:
    return set(storage.folder("axis").glob("*.part"))


def _is_problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json()


@pytest.mark.parametrize("key", ["started_at", "stopped_at"])
@pytest.mark.parametrize("value", IMPOSSIBLE)
def test_tus_creation_with_an_impossible_time_is_400(server, camera, key, value) -> None:
    files = _tus_files()
    response = create(server, camera, 10, **{key: value})
    body = _is_problem(response, 400)
    assert key in body["detail"]
    # With a body too (creation-with-upload): nothing is written.
    with_body = requests.post(
        f"{server}/files/",
        data=b"0123456789",
        headers={
            **TUS,
            **camera.auth,
            "Upload-Length": "10",
            "Upload-Metadata": metadata(officer="MP100", **{key: value}),
            "Content-Type": "application/offset+octet-stream",
        },
        timeout=30,
    )
    _is_problem(with_body, 400)
    assert not Upload.objects.exists()
    assert _tus_files() == files


def test_a_failure_at_completion_releases_the_lock_and_a_retry_finishes(
    server, camera, clips, monkeypatch
) -> None:
    data = clips["good"].read_bytes()
    created = create(server, camera, len(data), started_at="2024-05-01T14:00:00Z")
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    real_ingest = completion.ingest
    calls = []

    def fails_once(*args, **kwargs):  # a fault injected where completion calls ingest
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("injected failure at completion")
        return real_ingest(*args, **kwargs)

    monkeypatch.setattr(completion, "ingest", fails_once)
    failed = patch(server, camera, location, 0, data)
    body = _is_problem(failed, 500)
    assert "kept" in body["detail"]
    upload = Upload.objects.get(pk=location.rsplit("/", 1)[1])
    assert upload.status == Upload.Status.RECEIVING
    assert upload.lock_owner == "" and upload.lock_expires_at is None
    assert upload.offset == len(data)
    assert storage.tus_path(upload.id).stat().st_size == len(data)

    resumed = head(server, camera, location)  # finishes what every byte arrived for
    assert resumed.status_code == 200
    assert resumed.headers["Overt-Upload-Status"] == "stored"
    assert resumed.headers["Overt-Sha256"] == hashlib.sha256(data).hexdigest()
    upload.refresh_from_db()
    assert upload.status == "stored" and upload.original_id is not None


@pytest.fixture
def conn(server, people) -> tuple[str, str]:
    return swift.get_auth(f"{server}/auth/v1.0", "axis", axis_key(), auth_version="1")


def _container(url: str, token: str, **extra: str) -> None:
    swift.put_container(
        url,
        token,
        CONTAINER,
        headers={
            "X-Container-Meta-Userid": "MP100",
            "X-Container-Meta-Bwcserialnumber": "CAM-1",
            "X-Container-Meta-Triggerontime": str(EPOCH),
            **extra,
        },
    )


@pytest.mark.parametrize("value", IMPOSSIBLE)
def test_swift_container_with_an_impossible_trigger_time_is_400(conn, value) -> None:
    url, token = conn
    with pytest.raises(ClientException) as refused:
        _container(url, token, **{"X-Container-Meta-Triggerontimeiso": value})
    assert refused.value.http_status == 400
    assert not AxisContainer.objects.filter(name=CONTAINER).exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Object-Meta-Starttimeiso": "9999-12-31T23:59:59-23:59"},
        {"X-Object-Meta-Starttime": str(EPOCH), "X-Object-Meta-Stoptimeiso": "9999-12-31T23:59Z"},
        {"X-Object-Meta-Starttime": "253402300799"},  # 9999-12-31 as epoch seconds
        {"X-Object-Meta-Starttime": "99999999999999"},
    ],
)
def test_swift_clip_with_an_impossible_time_is_400_before_any_byte(conn, headers) -> None:
    url, token = conn
    _container(url, token)
    staged = _staged()
    response = requests.put(
        f"{url}/{CONTAINER}/clip_1.mkv",
        data=b"x" * 1000,
        headers={"X-Auth-Token": token, **headers},
        timeout=30,
    )
    _is_problem(response, 400)
    assert _staged() == staged
    assert not AxisObject.objects.filter(name="clip_1.mkv").exists()


def test_swift_bookmark_with_an_impossible_time_is_400_not_a_failed_recording(conn) -> None:
    url, token = conn
    _container(url, token)
    for method in ("PUT", "POST"):
        if method == "POST":
            swift.put_object(url, token, CONTAINER, "bookmark_1.txt", contents=b"note")
        response = requests.request(
            method,
            f"{url}/{CONTAINER}/bookmark_1.txt",
            data=b"note" if method == "PUT" else b"",
            headers={"X-Auth-Token": token, "X-Object-Meta-Starttime": "9999-12-31T23:59:59Z"},
            timeout=30,
        )
        _is_problem(response, 400)
    assert AxisContainer.objects.get(name=CONTAINER).status == AxisContainer.Status.OPEN
