"""Issue 11 items 18 and 19: optional whitespace around tus header values is trimmed
(RFC 9110 5.5), and Swift names that are not UTF-8 are refused, never stored mangled."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

import pytest
import requests
from swiftclient import client as swift

from overt.uploads import storage
from overt.uploads.axis.protocol import axis_key
from overt.uploads.models import AxisContainer, AxisObject, Upload

from .conftest import metadata


def _raw(server: str, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b""):
    """http.client sends header values exactly as given, whitespace included."""
    parts = urlsplit(server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.putrequest(method, path, skip_accept_encoding=True)
    for name, value in headers:
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.mark.parametrize("space", [" ", "\t", " \t "])
def test_tus_header_values_are_trimmed_of_optional_whitespace(server, camera, space) -> None:
    data = b"0123456789"
    created = _raw(
        server,
        "POST",
        "/files/",
        [
            ("Tus-Resumable", f"1.0.0{space}"),
            ("Authorization", f"Bearer {camera.token}"),
            ("Upload-Length", f"{space}10{space}"),
            ("Upload-Metadata", f"{metadata(officer='MP100')}{space}"),
        ],
    )
    assert created.status == 201, created.reason
    location = urlsplit(created.getheader("Location")).path
    patched = _raw(
        server,
        "PATCH",
        location,
        [
            ("Tus-Resumable", f"{space}1.0.0{space}"),
            ("Authorization", f"Bearer {camera.token}"),
            ("Upload-Offset", f"0{space}"),
            ("Content-Type", f"application/offset+octet-stream{space}"),
        ],
        data,
    )
    assert patched.status == 204, patched.reason
    assert patched.getheader("Upload-Offset") == "10"
    assert Upload.objects.get().offset == 10


BROKEN_NAMES = ["caf%E9", "%FF%FE", "ok%C3", "%ED%A0%80"]  # Latin-1, BOM bytes, cut, surrogate


@pytest.fixture
def conn(server, people) -> tuple[str, str]:
    return swift.get_auth(f"{server}/auth/v1.0", "axis", axis_key(), auth_version="1")


@pytest.mark.parametrize("broken", BROKEN_NAMES)
def test_swift_names_that_are_not_utf8_are_400_and_nothing_is_stored(conn, broken) -> None:
    url, token = conn
    auth = {"X-Auth-Token": token}
    container = f"MP100_CAM-1_{broken}"
    for response in (
        requests.put(f"{url}/{container}", headers=auth, timeout=30),
        requests.post(f"{url}/{container}", headers=auth, timeout=30),
        requests.get(f"{url}/{container}", headers=auth, timeout=30),
    ):
        assert response.status_code == 400, (response.request.url, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert "not UTF-8" in response.json()["detail"]
    assert not AxisContainer.objects.filter(name__startswith="MP100_CAM-1_").exists()

    swift.put_container(url, token, "Devices")
    staged = set(storage.folder("axis").glob("*.part"))
    for method in ("PUT", "POST", "GET", "HEAD"):
        response = requests.request(
            method, f"{url}/Devices/CAM-{broken}", data=b"x" * 10, headers=auth, timeout=30
        )
        assert response.status_code == 400, (method, response.text)
    assert not AxisObject.objects.filter(container__name="Devices").exists()
    assert set(storage.folder("axis").glob("*.part")) == staged


def test_wsgi_paths_are_checked_too(conn) -> None:
    """The same rule where Django is served by WSGI: gunicorn passes the request target
    as sent in RAW_URI (PATH_INFO holds the decoded bytes as Latin-1, per PEP 3333)."""
    from django.core.handlers.wsgi import WSGIHandler

    _, token = conn
    statuses = []

    def start_response(status: str, headers: list, exc_info=None) -> None:
        statuses.append(int(status.split()[0]))

    for raw, sent in ((b"MP100_CAM-1_\xff", "MP100_CAM-1_%FF"), (b"Devices", "Devices")):
        environ: dict = {}
        setup_testing_defaults(environ)
        environ.update(
            REQUEST_METHOD="PUT",
            PATH_INFO="/swift/v1/AUTH_axis/" + raw.decode("latin-1"),
            RAW_URI="/swift/v1/AUTH_axis/" + sent,
            HTTP_X_AUTH_TOKEN=token,
            CONTENT_LENGTH="0",
        )
        b"".join(WSGIHandler()(environ, start_response))
    assert statuses[0] == 400
    assert statuses[1] in (201, 202)
    assert not AxisContainer.objects.filter(name__startswith="MP100_CAM-1_").exists()
