"""What the tus server refuses, and how: wrong offsets, bad headers, bogus lengths, bad
metadata, bad credentials, concurrent writers, dropped connections, back-pressure."""

from __future__ import annotations

import base64
import hashlib
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from overt.uploads import storage
from overt.uploads.models import Upload
from overt.uploads.tokens import issue_token, revoke_tokens

from .conftest import TUS, Device, create, head, metadata, patch


def _id(location: str) -> str:
    return location.rsplit("/", 1)[1]


def _problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


# --- headers and lengths -----------------------------------------------------------------


def test_missing_or_unsupported_tus_version_is_412_with_tus_version(server, camera) -> None:
    for headers in ({}, {"Tus-Resumable": "0.2.2"}):
        response = requests.post(
            f"{server}/files/",
            headers={**headers, **camera.auth, "Upload-Length": "10"},
            timeout=10,
        )
        _problem(response, 412)
        assert response.headers["Tus-Version"] == "1.0.0"
    assert not Upload.objects.exists()


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (None, 400),
        ("", 400),
        ("-1", 400),
        ("abc", 400),
        ("1e6", 400),
        ("+5", 400),
        ("12345678901234567890123", 400),
        (str(1 << 62), 413),
    ],
)
def test_bogus_upload_length_is_refused(server, camera, value, status) -> None:
    headers = {**TUS, **camera.auth, "Upload-Metadata": metadata(officer="MP100")}
    if value is not None:
        headers["Upload-Length"] = value
    _problem(requests.post(f"{server}/files/", headers=headers, timeout=10), status)
    assert not Upload.objects.exists()


def test_deferred_length_and_concatenation_are_not_offered(server, camera) -> None:
    base = {**TUS, **camera.auth, "Upload-Metadata": metadata(officer="MP100")}
    deferred = requests.post(
        f"{server}/files/", headers={**base, "Upload-Defer-Length": "1"}, timeout=10
    )
    _problem(deferred, 400)
    concat = requests.post(
        f"{server}/files/",
        headers={**base, "Upload-Length": "5", "Upload-Concat": "partial"},
        timeout=10,
    )
    _problem(concat, 400)


def test_upload_over_the_size_limit_is_413(server, camera, settings_env) -> None:
    settings_env(upload_max_bytes=1000)
    _problem(create(server, camera, 1001), 413)
    assert create(server, camera, 1000).status_code == 201


def test_wrong_offset_is_409_and_changes_nothing(server, camera, unique_bytes) -> None:
    data = unique_bytes(3000)
    location = create(server, camera, len(data)).headers["Location"]
    assert patch(server, camera, location, 0, data[:1000]).status_code == 204
    for offset in (0, 999, 1001, 3000):
        response = patch(server, camera, location, offset, data[offset : offset + 10])
        body = _problem(response, 409)
        assert response.headers["Upload-Offset"] == "1000"
        assert body["offset"] == 1000
    assert head(server, camera, location).headers["Upload-Offset"] == "1000"
    assert storage.tus_path(_id(location)).read_bytes() == data[:1000]


def test_missing_offset_wrong_type_and_past_the_length(server, camera) -> None:
    location = create(server, camera, 10).headers["Location"]
    no_offset = requests.patch(
        server + location,
        data=b"abc",
        headers={**TUS, **camera.auth, "Content-Type": "application/offset+octet-stream"},
        timeout=10,
    )
    _problem(no_offset, 400)
    wrong_type = requests.patch(
        server + location,
        data=b"abc",
        headers={**TUS, **camera.auth, "Upload-Offset": "0", "Content-Type": "text/plain"},
        timeout=10,
    )
    _problem(wrong_type, 415)
    bad_offset = patch(server, camera, location, 0, b"abc", Upload_Offset="-3")
    _problem(bad_offset, 400)
    past = patch(server, camera, location, 0, b"x" * 11)
    _problem(past, 413)
    assert head(server, camera, location).headers["Upload-Offset"] == "0"
    assert storage.tus_path(_id(location)).read_bytes() == b""


def test_a_chunked_body_running_past_the_length_is_refused_whole(server, camera) -> None:
    location = create(server, camera, 10).headers["Location"]

    def body():
        yield b"12345"
        yield b"6789012"

    response = requests.patch(
        server + location,
        data=body(),
        headers={
            **TUS,
            **camera.auth,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
        timeout=10,
    )
    _problem(response, 413)
    assert head(server, camera, location).headers["Upload-Offset"] == "0"


def test_unknown_upload_traversal_and_wrong_method(server, camera) -> None:
    assert head(server, camera, f"/files/{'0' * 32}").status_code == 404
    _problem(patch(server, camera, f"/files/{'0' * 32}", 0, b"x"), 404)
    _problem(patch(server, camera, "/files/..%2F..%2Fetc%2Fpasswd", 0, b"x"), 404)
    _problem(patch(server, camera, "/files/%2E%2E", 0, b"x"), 404)
    put = requests.put(f"{server}/files/{'0' * 32}", headers={**TUS, **camera.auth}, timeout=10)
    _problem(put, 405)
    get = requests.get(f"{server}/files/", headers={**TUS, **camera.auth}, timeout=10)
    _problem(get, 405)


# --- metadata ----------------------------------------------------------------------------


def _raw_create(server: str, device: Device, raw_metadata: str) -> requests.Response:
    return requests.post(
        f"{server}/files/",
        headers={**TUS, **device.auth, "Upload-Length": "10", "Upload-Metadata": raw_metadata},
        timeout=10,
    )


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("filename " + base64.b64encode(b"a\x07b.mp4").decode(), "control characters"),
        ("officer " + base64.b64encode(b"MP1\n00").decode(), "control characters"),
        ("filename " + base64.b64encode(b"../../etc/passwd").decode(), "plain name"),
        ("filename " + base64.b64encode(b"..").decode(), "plain name"),
        ("filename " + base64.b64encode(b"a\\b.mp4").decode(), "plain name"),
        ("filename not*base64!", "not Base64"),
        ("filename " + base64.b64encode(b"\xff\xfe").decode(), "not UTF-8"),
        ("filename YQ==,filename Yg==", "repeats"),
        ("sha256 " + base64.b64encode(b"abc").decode(), "64 hex digits"),
        ("started_at " + base64.b64encode(b"yesterday").decode(), "RFC 3339"),
        ("started_at " + base64.b64encode(b"2026-11-20T14:00:00").decode(), "RFC 3339"),
        ("started_at " + base64.b64encode(b"2026-02-30T14:00:00Z").decode(), "not a real time"),
        ("b\u00e9d YQ==", "printable ASCII"),
        ("device " + base64.b64encode(b"x" * 65).decode(), "longer than"),
        (",", "empty"),
        ("k " + base64.b64encode(b"v" * 2000).decode(), "longer than 1024"),
        (",".join(f"k{i} YQ==" for i in range(40)), "more than 32"),
        ("k " + "QUFB" * 3000, "longer than 8192"),
    ],
)
def test_bad_metadata_is_400(server, camera, raw, fragment) -> None:
    body = _problem(_raw_create(server, camera, f"officer TVAxMDA=,{raw}"), 400)
    assert fragment in body["detail"]
    assert not Upload.objects.exists()


def test_unknown_people_and_stop_before_start_are_400(server, camera) -> None:
    _problem(create(server, camera, 5, officer="MP999"), 400)
    _problem(
        create(
            server,
            camera,
            5,
            started_at="2026-11-20T14:00:00Z",
            stopped_at="2026-11-20T13:00:00Z",
        ),
        400,
    )


def test_officer_defaults_to_the_devices_wearer(server, camera) -> None:
    from datetime import UTC, datetime

    from overt.evidence.models import Device as DeviceRow
    from overt.evidence.models import DeviceAssignment, Officer
    from overt.ingest.people import UNATTRIBUTED

    # Changed on purpose by the fleet work: footage from a camera assigned to no one is
    # no longer refused but kept under the reserved UNATTRIBUTED officer (the fleet's
    # unattributed worklist). An assigned camera's clip still defaults to its wearer.
    response = requests.post(
        f"{server}/files/",
        headers={**TUS, **camera.auth, "Upload-Length": "5"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    unattributed = Upload.objects.get()
    assert unattributed.officer_number == UNATTRIBUTED
    DeviceAssignment.objects.create(
        device=DeviceRow.objects.get(serial="CAM-1"),
        officer=Officer.objects.get(number="MP100"),
        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    response = requests.post(
        f"{server}/files/",
        headers={**TUS, **camera.auth, "Upload-Length": "5"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert Upload.objects.exclude(pk=unattributed.pk).get().officer_number == "MP100"


# --- credentials -------------------------------------------------------------------------


def test_missing_unknown_and_revoked_tokens_are_401(server, camera) -> None:
    for auth in ({}, {"Authorization": "Bearer ovt_nothing"}, {"Authorization": "Basic eDp5"}):
        response = requests.post(
            f"{server}/files/", headers={**TUS, **auth, "Upload-Length": "5"}, timeout=10
        )
        _problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    location = create(server, camera, 5).headers["Location"]
    assert revoke_tokens("CAM-1", revoked_by="test") == 1
    _problem(create(server, camera, 5), 401)
    _problem(patch(server, camera, location, 0, b"abcde"), 401)
    assert head(server, camera, location).status_code == 401


def test_a_camera_token_uploads_only_its_own_clips_a_dock_token_any(server, camera) -> None:
    from overt.evidence.models import Device as DeviceRow

    DeviceRow.objects.create(serial="CAM-2", model="Test Cam")
    DeviceRow.objects.create(serial="DOCK-1", model="Dock")
    _problem(create(server, camera, 5, device="CAM-2"), 403)
    dock = Device("DOCK-1", issue_token("DOCK-1", dock=True, created_by="test"))
    response = create(server, dock, 5, device="CAM-2")
    assert response.status_code == 201, response.text
    upload = Upload.objects.get()
    assert (upload.device_serial, upload.principal) == ("CAM-2", "DOCK-1")
    # Another device cannot see or touch that upload.
    assert head(server, camera, response.headers["Location"]).status_code == 404


def test_tokens_are_hashed_at_rest(server, camera) -> None:
    from overt.uploads.models import DeviceToken

    row = DeviceToken.objects.get()
    assert row.token_hash == hashlib.sha256(camera.token.encode()).hexdigest()
    assert camera.token not in (row.token_hash, row.prefix)


# --- connections, locks, back-pressure ---------------------------------------------------


class RawPatch:
    """A PATCH sent by hand over a socket, so a test can stop mid-body."""

    def __init__(
        self, server: str, device: Device, location: str, offset: int, length: int, **headers: str
    ) -> None:
        parts = urlsplit(server)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        lines = [
            f"PATCH {location} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Tus-Resumable: 1.0.0",
            f"Authorization: Bearer {device.token}",
            f"Upload-Offset: {offset}",
            "Content-Type: application/offset+octet-stream",
            f"Content-Length: {length}",
            *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> bytes:
        chunks = []
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks):
                break
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()


def _wait(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _released(upload_id: str) -> bool:
    return Upload.objects.filter(pk=upload_id, lock_owner="").exists()


def test_client_disconnect_mid_chunk_keeps_exactly_the_bytes_written(
    server, camera, unique_bytes
) -> None:
    data = unique_bytes(5 << 20)
    location = create(server, camera, len(data)).headers["Location"]
    upload_id = _id(location)
    path = storage.tus_path(upload_id)
    raw = RawPatch(server, camera, location, 0, len(data))
    raw.send(data[: 3 << 20])
    _wait(lambda: path.stat().st_size >= 2 << 20, "the server to write 2 MiB")
    raw.close()
    _wait(lambda: _released(upload_id), "the server to notice the disconnect")

    offset = int(head(server, camera, location).headers["Upload-Offset"])
    assert (2 << 20) <= offset <= (3 << 20)
    assert path.read_bytes() == data[:offset]  # exactly the bytes written, all of them ours

    done = patch(server, camera, location, offset, data[offset:])
    assert done.status_code == 204, done.text
    assert done.headers["Overt-Sha256"] == hashlib.sha256(data).hexdigest()


def test_with_a_checksum_an_interrupted_chunk_counts_for_nothing(
    server, camera, unique_bytes
) -> None:
    data = unique_bytes(3 << 20)
    location = create(server, camera, len(data)).headers["Location"]
    upload_id = _id(location)
    checksum = base64.b64encode(hashlib.sha1(data).digest()).decode()
    raw = RawPatch(server, camera, location, 0, len(data), Upload_Checksum=f"sha1 {checksum}")
    raw.send(data[: 2 << 20])
    _wait(lambda: storage.tus_path(upload_id).stat().st_size >= 1 << 20, "bytes to arrive")
    raw.close()
    _wait(lambda: _released(upload_id), "the server to notice the disconnect")
    assert head(server, camera, location).headers["Upload-Offset"] == "0"
    assert storage.tus_path(upload_id).stat().st_size == 0


def test_concurrent_patch_on_one_upload_is_locked_out(server, camera, unique_bytes) -> None:
    data = unique_bytes(4 << 20)
    location = create(server, camera, len(data)).headers["Location"]
    upload_id = _id(location)
    first = RawPatch(server, camera, location, 0, len(data))
    first.send(data[: 2 << 20])
    _wait(lambda: storage.tus_path(upload_id).stat().st_size >= 1 << 20, "the first PATCH")

    second = patch(server, camera, location, 0, data)
    _problem(second, 423)
    assert "Retry-After" in second.headers
    deleted = requests.delete(server + location, headers={**TUS, **camera.auth}, timeout=10)
    _problem(deleted, 423)

    first.send(data[2 << 20 :])
    assert b" 204 " in first.response().split(b"\r\n", 1)[0] + b" "
    first.close()
    assert Upload.objects.get(pk=upload_id).status == Upload.Status.STORED


def test_too_many_concurrent_uploads_is_503_with_retry_after(
    server, camera, unique_bytes, settings_env
) -> None:
    settings_env(upload_max_concurrent=1)
    data = unique_bytes(3 << 20)
    busy = create(server, camera, len(data)).headers["Location"]
    other = create(server, camera, 10).headers["Location"]
    first = RawPatch(server, camera, busy, 0, len(data))
    first.send(data[: 2 << 20])
    _wait(lambda: storage.tus_path(_id(busy)).stat().st_size >= 1 << 20, "the first PATCH")

    refused = patch(server, camera, other, 0, b"0123456789")
    _problem(refused, 503)
    assert int(refused.headers["Retry-After"]) > 0
    assert head(server, camera, other).headers["Upload-Offset"] == "0"

    first.send(data[2 << 20 :])
    first.response()
    first.close()
    assert patch(server, camera, other, 0, b"0123456789").status_code == 204


def no_room(settings_env) -> None:
    """Make the free-space reserve larger than any disk."""
    from overt.conf import OvertSettings

    values = {"min_free_bytes": 1 << 62}
    if "disk_warning_free_bytes" in OvertSettings.model_fields:  # must stay above the reserve
        values["disk_warning_free_bytes"] = (1 << 62) + 1
    settings_env(**values)


def test_no_room_on_disk_is_507_before_any_byte(server, camera, settings_env) -> None:
    location = create(server, camera, 10).headers["Location"]
    no_room(settings_env)
    _problem(create(server, camera, 10), 507)
    _problem(patch(server, camera, location, 0, b"0123456789"), 507)
    assert storage.tus_path(_id(location)).stat().st_size == 0
    assert head(server, camera, location).headers["Upload-Offset"] == "0"
