"""Fuzzing the headers a tus or Swift client controls, against the real ASGI app: never
a 500, every refusal a problem+json body, and a refused request leaves nothing behind
(no upload row, no held lock, no staged or partial file)."""

from __future__ import annotations

import base64
import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from swiftclient import client as swift

from overt.uploads import storage
from overt.uploads.axis.protocol import axis_key
from overt.uploads.models import AxisContainer, AxisObject, Upload

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Header values a client can put on the wire: Latin-1 without CR, LF or NUL.
wire_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=80,
) | st.text(st.sampled_from(" \t"), max_size=3)
numbers = st.one_of(
    st.integers(-5, 1 << 70).map(str),
    st.sampled_from(["", " 10", "10 ", "1e3", "+5", "0x10", "٣", "10,10", "9" * 30]),
)
times = st.one_of(
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(
        [
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "2024-02-30T10:00:00Z",
            "2024-05-01T10:00:00+24:00",
            "2024-05-01T10:00:00.1234567891Z",
            "2024-05-01T10:00:00Z",
        ]
    ),
    wire_text,
)


def _b64(value: str | bytes) -> str:
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return base64.b64encode(raw).decode()


metadata_pairs = st.lists(
    st.tuples(
        st.sampled_from(["filename", "device", "officer", "sha256", "started_at", "stopped_at"])
        | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=8),
        st.one_of(times.map(_b64), st.binary(max_size=40).map(_b64), wire_text),
    ),
    max_size=6,
)
upload_metadata = st.one_of(
    metadata_pairs.map(lambda pairs: ",".join(f"{k} {v}" for k, v in pairs)),
    # A known officer, so the times and the rest are what decides (and uploads complete).
    metadata_pairs.map(
        lambda pairs: ",".join(
            [f"officer {_b64('MP100')}"] + [f"{k} {v}" for k, v in pairs if k != "officer"]
        )
    ),
    wire_text,
)
tus_version = st.sampled_from(["1.0.0", " 1.0.0 ", "1.0.0\t", "1.0", "", "1.0.0,1.0.0"]) | wire_text
content_type = (
    st.sampled_from(["application/offset+octet-stream", "APPLICATION/OFFSET+OCTET-STREAM; x=1"])
    | wire_text
)


def _send(
    server: str, method: str, path: str, headers: dict[str, str | None], body: bytes = b""
) -> tuple[int, str, bytes]:
    parts = urlsplit(server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            if value is not None:
                conn.putheader(name, value.encode("utf-8"))  # any bytes
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def _sound(status: int, content_type: str, body: bytes) -> None:
    assert status < 500, body
    if status >= 400:
        assert content_type == "application/problem+json", (status, body)
        problem = json.loads(body)
        assert problem["status"] == status and problem.get("detail")


def _tus_files() -> set[Path]:
    return set(storage.folder("tus").glob("*.part"))


def _no_locks_held() -> None:
    assert not Upload.objects.exclude(lock_owner="").exists()


def test_fuzzed_tus_headers(server, camera) -> None:
    auth = f"Bearer {camera.token}"

    @FUZZ
    @given(
        length=numbers | st.just("body"),
        meta=upload_metadata,
        version=tus_version,
        ctype=content_type,
        body=st.binary(max_size=64),
        offset=numbers,
    )
    def run(length: str, meta: str, version: str, ctype: str, body: bytes, offset: str) -> None:
        rows, files = Upload.objects.count(), _tus_files()
        if length == "body":  # exactly the body's length, so that uploads complete
            length = str(len(body))
        headers = {
            "Tus-Resumable": version,
            "Authorization": auth,
            "Upload-Length": length,
            "Upload-Metadata": meta,
            "Content-Type": ctype if body else None,
        }
        status, kind, answer = _send(server, "POST", "/files/", headers, body)
        _sound(status, kind, answer)
        _no_locks_held()
        if status >= 400:
            assert Upload.objects.count() == rows
            assert _tus_files() == files
            return
        upload = Upload.objects.latest("created_at")
        before = upload.offset
        status, kind, answer = _send(
            server,
            "PATCH",
            f"/files/{upload.id}",
            {
                "Tus-Resumable": version,
                "Authorization": auth,
                "Upload-Offset": offset,
                "Content-Type": ctype,
            },
            body,
        )
        _sound(status, kind, answer)
        _no_locks_held()
        upload.refresh_from_db()
        if status >= 400 and upload.status == Upload.Status.RECEIVING:
            assert upload.offset == before
            assert storage.tus_path(upload.id).stat().st_size == before

    run()


def test_fuzzed_swift_metadata(server, people) -> None:
    url, token = swift.get_auth(f"{server}/auth/v1.0", "axis", axis_key(), auth_version="1")
    account = urlsplit(url).path
    epoch = "1714572000"
    keys = st.sampled_from(
        [
            "Starttime",
            "Stoptime",
            "Starttimeiso",
            "Stoptimeiso",
            "Triggerontime",
            "Triggerontimeiso",
            "Triggerofftime",
            "Userid",
            "Bwcserialnumber",
            "Status",
            "Containertype",
        ]
    ) | st.text(st.characters(min_codepoint=0x41, max_codepoint=0x5A), min_size=1, max_size=6)
    meta = st.dictionaries(
        keys, times | wire_text | st.sampled_from([epoch, "MP100", "CAM-1"]), max_size=5
    )
    counter = iter(range(1_000_000))

    @FUZZ
    @given(container_meta=meta, object_meta=meta, name=st.sampled_from(["clip.mkv", "bookmark_1"]))
    def run(container_meta: dict, object_meta: dict, name: str) -> None:
        container = f"MP100_CAM-1_{next(counter)}"
        base = {"X-Auth-Token": token}
        headers = {
            **base,
            "X-Container-Meta-Userid": "MP100",
            "X-Container-Meta-Bwcserialnumber": "CAM-1",
            "X-Container-Meta-Triggerontime": epoch,
            **{f"X-Container-Meta-{k}": v for k, v in container_meta.items()},
        }
        status, kind, answer = _send(server, "PUT", f"{account}/{container}", headers)
        _sound(status, kind, answer)
        if status >= 400:
            assert not AxisContainer.objects.filter(name=container).exists()
            return
        staged = set(storage.folder("axis").glob("*.part"))
        objects = AxisObject.objects.count()
        headers = {**base, **{f"X-Object-Meta-{k}": v for k, v in object_meta.items()}}
        status, kind, answer = _send(
            server, "PUT", f"{account}/{container}/{name}", headers, b"\x1a\x45\xdf\xa3" * 8
        )
        _sound(status, kind, answer)
        if status >= 400:
            assert AxisObject.objects.count() == objects
            assert set(storage.folder("axis").glob("*.part")) == staged
        status, kind, answer = _send(server, "POST", f"{account}/{container}/{name}", headers)
        _sound(status, kind, answer)

    run()
