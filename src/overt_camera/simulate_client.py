"""The wire side of `overt-camera simulate` (overt_camera.simulate): one keep-alive HTTP
link per virtual camera, the pre-made segments, enrolment with a key of the camera's own,
the signed manifest, and one tus upload that resumes from the server's offset after a
broken connection or a 503's Retry-After. Standard library and cryptography only."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import random
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

SEGMENT_SECONDS = 300.0
RETRYABLE = (408, 423, 429, 500, 502, 503, 504)


class Refused(RuntimeError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status


class Link:
    """One keep-alive HTTP connection to the server, reopened when it breaks."""

    def __init__(self, base: str, token: str | None = None, timeout: float = 120.0) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--server must be http(s)://HOST[:PORT], not {base!r}")
        self.parts, self.token, self.timeout = parts, token, timeout
        self.conn: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        if self.conn is None:
            kind = (
                http.client.HTTPSConnection
                if self.parts.scheme == "https"
                else http.client.HTTPConnection
            )
            self.conn = kind(self.parts.hostname or "", self.parts.port, timeout=self.timeout)
        return self.conn

    def send(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        sent = dict(headers or {})
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        try:
            conn = self._open()
            conn.request(method, path, body=body, headers=sent)
            answer = conn.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if answer.will_close:
            self.close()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data

    def json(
        self, method: str, path: str, payload: Any = None, ok: tuple[int, ...] = (200, 201)
    ) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        status, _, data = self.send(
            method, path, body, {"Content-Type": "application/json", "Accept": "application/json"}
        )
        if status not in ok:
            raise Refused(status, _detail(data))
        return json.loads(data or b"null")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _detail(data: bytes) -> str:
    try:
        body = json.loads(data)
    except ValueError:
        return data[:200].decode("utf-8", "replace")
    return (
        str(body.get("detail") or body.get("title") or body)
        if isinstance(body, dict)
        else str(body)
    )


def rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _b64(value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode("ascii")


class Segments:
    """The pre-made block, as long as the longest segment: a segment of `size` bytes is
    the block's first `size - 64` bytes and 64 bytes unique to it. The SHA-256 state of
    each of those prefixes is kept, so a segment's hash costs only its tail."""

    def __init__(self, sizes: Iterable[int]) -> None:
        wanted = sorted({max(1, int(s)) for s in sizes})
        if not wanted:
            raise ValueError("no segment sizes")
        self.block = os.urandom(max(wanted[-1] - 64, 0))
        self.prefix_hashes: dict[int, Any] = {}
        digest, done = hashlib.sha256(), 0
        for size in wanted:  # one pass over the block, a copied state at each prefix
            prefix = max(size - 64, 0)
            digest.update(memoryview(self.block)[done:prefix])
            done = prefix
            self.prefix_hashes[size] = digest.copy()

    def tail(self, serial: str, index: int, size: int) -> bytes:
        unique = f"{serial}:{index}:{secrets.token_hex(8)}".encode()
        return hashlib.sha512(unique).digest()[: min(64, size)]

    def piece(self, size: int, tail: bytes, start: int, end: int) -> bytes:
        """Bytes [start, end) of the `size`-byte segment that ends in `tail`."""
        whole = size - len(tail)
        head = self.block[start : min(end, whole)] if start < whole else b""
        return head + tail[max(0, start - whole) : max(0, end - whole)]

    def sha256(self, size: int, tail: bytes) -> str:
        digest = self.prefix_hashes[size].copy()
        digest.update(tail)
        return str(digest.hexdigest())


@dataclass
class Camera:
    serial: str
    token: str = ""
    key: Any = None  # an Ed25519PrivateKey when enrolled with a key
    key_id: str = ""
    previous_manifest: str | None = None
    sequence: int = 0
    enrolled_at: float = 0.0  # its key is valid from then: it records after that


def enrol(server: str, admin_token: str, serial: str, model: str) -> Camera:
    """Register camera `serial` with the admin token, then give it its own credential."""
    admin = Link(server, admin_token)
    try:
        made = admin.json(
            "POST",
            "/api/devices/",
            {"serial": serial, "model": model, "token": True, "enrol": True},
        )
    finally:
        admin.close()
    camera = Camera(serial)
    if made.get("code"):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        device = Link(server)
        try:
            answer = device.json(
                "POST",
                "/api/devices/enrol/",
                {
                    "serial": serial,
                    "code": made["code"],
                    "public_key": _b64(public),
                    "agent_version": "overt-camera-simulator",
                },
            )
        finally:
            device.close()
        camera.token, camera.key, camera.key_id = answer["device_token"], key, answer["key_id"]
        camera.enrolled_at = time.time() + 1.0
    elif made.get("device_token"):
        camera.token = made["device_token"]
    else:
        raise Refused(500, "the server gave neither an enrolment code nor a device token")
    return camera


def _manifest(
    camera: Camera, recording: str, index: int, last: bool, start: float, sha256: str, size: int
) -> tuple[bytes, bytes]:
    record = {
        "format": "overt-capture-manifest/1",
        "device_serial": camera.serial,
        "key_id": camera.key_id,
        "recording_id": recording,
        "segment": index,
        "device_sequence": camera.sequence,
        "started_at": rfc3339(start),
        "ended_at": rfc3339(start + SEGMENT_SECONDS),
        "pre_event_seconds": 0.0 if index else 30.0,
        "sha256": sha256,
        "size": size,
        "previous_manifest_sha256": camera.previous_manifest,
        "final": last,
        "interrupted": False,
        "triggers": [],
        "gps": [],
        "clock_offset_s": 0.0,
        "agent_version": "overt-camera-simulator",
        "audio_in_buffer": False,
    }
    data = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    return data, camera.key.sign(data)


def retrying(call: Any, attempts: int = 8) -> Any:
    """Call again after a refusal the server says may pass (503 Retry-After...) or a
    broken connection (a node killed behind the balancer): the tus upload resumes."""
    for attempt in range(attempts):
        try:
            return call()
        except Refused as exc:
            if exc.status not in RETRYABLE or attempt == attempts - 1:
                raise
        except (OSError, http.client.HTTPException):
            if attempt == attempts - 1:
                raise
        time.sleep(min(0.5 * 2**attempt, 10.0) * (0.5 + random.random()))


def upload(
    link: Link,
    camera: Camera,
    segments: Segments,
    recording: str,
    index: int,
    last: bool,
    start: float,
    chunk: int,
    size: int,
) -> tuple[str, int]:
    tail = segments.tail(camera.serial, index, size)
    sha256 = segments.sha256(size, tail)
    meta = {
        "filename": f"{camera.serial}-{recording[:8]}-{index:03d}.bin",
        "device": camera.serial,
        "sha256": sha256,
        "started_at": rfc3339(start),
        "stopped_at": rfc3339(start + SEGMENT_SECONDS),
    }
    if camera.key is not None:
        manifest, signature = _manifest(camera, recording, index, last, start, sha256, size)
        answer = retrying(
            lambda: link.json(
                "POST",
                "/api/capture/manifests/",
                {"manifest": _b64(manifest), "signature": _b64(signature)},
            )
        )
        camera.previous_manifest = answer["manifest_sha256"]
        meta.update({"capture-manifest": answer["manifest_sha256"], "capture-recording": recording})
    tus = {"Tus-Resumable": "1.0.0"}

    def create() -> str:
        status, headers, data = link.send(
            "POST",
            "/files/",
            b"",
            {
                **tus,
                "Upload-Length": str(size),
                "Upload-Metadata": ",".join(f"{k} {_b64(v)}" for k, v in meta.items()),
            },
        )
        if status != 201:
            raise Refused(status, _detail(data))
        return urlsplit(headers["location"]).path

    location = retrying(create)
    offset, resume = 0, False
    headers: dict[str, str] = {}

    def patch() -> tuple[int, dict[str, str]]:
        nonlocal offset, resume
        if resume:  # after a failure, ask where the upload stands (any node knows)
            status, found, data = link.send("HEAD", location, None, tus)
            if status not in (200, 204):
                raise Refused(status, _detail(data))
            offset = int(found.get("upload-offset", "0"))
            if offset >= size:
                return offset, found
        resume = True
        piece = segments.piece(size, tail, offset, offset + chunk)
        status, found, data = link.send(
            "PATCH",
            location,
            piece,
            {
                **tus,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        if status != 204:
            raise Refused(status, _detail(data))
        resume = False
        return int(found["upload-offset"]), found

    while offset < size:
        offset, headers = retrying(patch)
    stored = headers.get("overt-sha256")
    state = headers.get("overt-upload-status", "")
    if stored != sha256 or state not in ("stored", "duplicate"):
        raise Refused(0, f"upload {location}: server holds {stored} ({state}), sent {sha256}")
    return sha256, size
