"""`overt-camera simulate`: a fleet of virtual cameras docking at once (issue 18).

Each virtual camera is registered by an admin's API token (`POST /api/devices/`, the
token's only use), then gets its own credential: by enrolment with an Ed25519 key of its
own when the server offers a one-time code, else the device token the answer carries. At
its dock time it reports status, fetches its config, and offloads K segments by tus
(with a signed manifest first when it has a key). Segments are pre-made: one random block
of the asked size, shared, with a unique tail per segment, so every segment is distinct
evidence yet the simulator hashes only the tail (a copied SHA-256 state) and is not
CPU-bound. It prints the protocol's JSON summary:

    {"cameras", "uploads", "bytes", "errors", "p50_s", "p95_s", "p99_s", "sha256s": [...]}

An upload counts once the server has catalogued it and its Overt-Sha256 equals what was
sent; anything else is an error (with the reason on stderr). It imports nothing of overt
or Django: only the standard library and cryptography, as the agent.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import secrets
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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


def _rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _b64(value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode("ascii")


@dataclass
class Segments:
    """The pre-made block: `size` bytes of which the last 64 are unique per segment."""

    size: int
    block: bytes = b""
    prefix_hash: Any = None

    def __post_init__(self) -> None:
        self.block = os.urandom(max(self.size - 64, 0))
        self.prefix_hash = hashlib.sha256(self.block)

    def tail(self, serial: str, index: int) -> bytes:
        unique = f"{serial}:{index}:{secrets.token_hex(8)}".encode()
        return hashlib.sha512(unique).digest()[: min(64, self.size)]

    def piece(self, tail: bytes, start: int, end: int) -> bytes:
        """Bytes [start, end) of the segment that ends in `tail`."""
        whole = len(self.block)
        head = self.block[start : min(end, whole)] if start < whole else b""
        return head + tail[max(0, start - whole) : max(0, end - whole)]

    def sha256(self, tail: bytes) -> str:
        digest = self.prefix_hash.copy()
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


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    sha256s: list[str] = field(default_factory=list)
    bytes: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, sha256: str, size: int, took: float) -> None:
        with self.lock:
            self.sha256s.append(sha256)
            self.latencies.append(took)
            self.bytes += size

    def fail(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)
        print(f"overt-camera simulate: {what}", file=sys.stderr)


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
        "started_at": _rfc3339(start),
        "ended_at": _rfc3339(start + SEGMENT_SECONDS),
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


def _retrying(call: Any, attempts: int = 8) -> Any:
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
) -> tuple[str, int]:
    tail = segments.tail(camera.serial, index)
    sha256, size = segments.sha256(tail), len(segments.block) + len(tail)
    meta = {
        "filename": f"{camera.serial}-{recording[:8]}-{index:03d}.bin",
        "device": camera.serial,
        "sha256": sha256,
        "started_at": _rfc3339(start),
        "stopped_at": _rfc3339(start + SEGMENT_SECONDS),
    }
    if camera.key is not None:
        manifest, signature = _manifest(camera, recording, index, last, start, sha256, size)
        answer = _retrying(
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

    location = _retrying(create)
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
        piece = segments.piece(tail, offset, offset + chunk)
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
        offset, headers = _retrying(patch)
    stored = headers.get("overt-sha256")
    state = headers.get("overt-upload-status", "")
    if stored != sha256 or state not in ("stored", "duplicate"):
        raise Refused(0, f"upload {location}: server holds {stored} ({state}), sent {sha256}")
    return sha256, size


def shift(
    server: str, camera: Camera, segments: Segments, count: int, chunk: int, out: Outcome
) -> None:
    """One camera at the dock: status, config, then its segments in order."""
    link = Link(server, camera.token)
    try:
        recording = secrets.token_hex(16)
        camera.sequence += 1
        start = time.time() - count * SEGMENT_SECONDS - random.uniform(60, 6 * 3600)
        if camera.key is not None:  # a signing camera's shift began after its enrolment
            start = max(start, camera.enrolled_at)
        report = {
            "agent_version": "overt-camera-simulator",
            "battery_percent": 35.0,
            "charging": True,
            "free_bytes": 20 << 30,
            "pending_segments": count,
            "pending_bytes": count * segments.size,
            "clock_offset_s": 0.0,
            "last_error": None,
            "config_version": None,
            "reported_at": _rfc3339(time.time()),
        }
        try:
            _retrying(lambda: link.json("POST", "/api/device/status/", report))
            config = _retrying(lambda: link.json("GET", "/api/device/config/"))
        except (Refused, OSError, http.client.HTTPException) as exc:
            out.fail(f"{camera.serial}: status/config: {exc}")
            config = None
        for index in range(count):
            began = time.monotonic()
            try:
                sha256, size = upload(
                    link,
                    camera,
                    segments,
                    recording,
                    index,
                    index == count - 1,
                    start + index * SEGMENT_SECONDS,
                    chunk,
                )
            except (Refused, OSError, http.client.HTTPException, KeyError, ValueError) as exc:
                out.fail(f"{camera.serial} segment {index}: {exc}")
                continue
            out.ok(sha256, size, time.monotonic() - began)
        if config is not None:
            report.update(
                {
                    "pending_segments": 0,
                    "pending_bytes": 0,
                    "config_version": config.get("version"),
                    "reported_at": _rfc3339(time.time()),
                }
            )
            try:
                _retrying(lambda: link.json("POST", "/api/device/status/", report))
            except (Refused, OSError, http.client.HTTPException) as exc:
                out.fail(f"{camera.serial}: final status: {exc}")
    finally:
        link.close()


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank], 4)


def simulate(args: argparse.Namespace) -> dict[str, Any]:
    prefix = args.prefix or f"SIM-{secrets.token_hex(3).upper()}"
    serials = [f"{prefix}-{i:05d}" for i in range(args.cameras)]
    out = Outcome()
    cameras: list[Camera] = []
    with ThreadPoolExecutor(max_workers=min(args.concurrency, 16)) as pool:

        def _enrol(serial: str) -> Camera | None:
            try:
                return enrol(args.server, args.token, serial, args.model)
            except (Refused, OSError, http.client.HTTPException, KeyError, ValueError) as exc:
                out.fail(f"{serial}: enrolment: {exc}")
                return None

        cameras = [c for c in pool.map(_enrol, serials) if c is not None]
    segments = Segments(max(1, int(args.segment_mb * 1_000_000)))
    chunk = max(64 * 1024, int(args.chunk_mb * 1_000_000))
    began = time.monotonic()
    due = {c.serial: random.uniform(0, args.dock_window) for c in cameras}

    def dock(camera: Camera) -> None:
        wait = due[camera.serial] - (time.monotonic() - began)
        if wait > 0:
            time.sleep(wait)
        shift(args.server, camera, segments, args.segments, chunk, out)

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(dock, sorted(cameras, key=lambda c: due[c.serial])))
    return {
        "cameras": len(cameras),
        "uploads": len(out.sha256s),
        "bytes": out.bytes,
        "errors": len(out.errors),
        "p50_s": percentile(out.latencies, 50),
        "p95_s": percentile(out.latencies, 95),
        "p99_s": percentile(out.latencies, 99),
        "sha256s": out.sha256s,
        "wall_s": round(time.monotonic() - began, 3),
    }


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--server", required=True, metavar="URL", help="overt's base URL")
    command.add_argument(
        "--token",
        required=True,
        metavar="API_TOKEN",
        help="an admin's API token (scope manage-fleet); used only to enrol",
    )
    command.add_argument("--cameras", type=int, required=True, metavar="N")
    command.add_argument("--segments", type=int, default=3, metavar="K", help="per camera")
    command.add_argument("--segment-mb", type=float, default=1.0, metavar="MB")
    command.add_argument(
        "--dock-window",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="cameras dock at random times over this span (default: at once)",
    )
    command.add_argument(
        "--concurrency", type=int, default=32, metavar="N", help="cameras offloading at once"
    )
    command.add_argument(
        "--chunk-mb", type=float, default=8.0, metavar="MB", help="bytes per tus PATCH"
    )
    command.add_argument("--prefix", default="", help="serial prefix (default SIM-<random>)")
    command.add_argument("--model", default="overt-sim", help="camera model to register")
    command.add_argument("--json", action="store_true", help="print the summary as JSON")
    command.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for name in ("cameras", "segments", "concurrency"):
        if getattr(args, name) < 1:
            print(f"overt-camera simulate: --{name} must be at least 1", file=sys.stderr)
            return 2
    if args.segment_mb <= 0 or args.dock_window < 0:
        print("overt-camera simulate: --segment-mb must be > 0, --dock-window ≥ 0", file=sys.stderr)
        return 2
    try:
        summary = simulate(args)
    except ValueError as exc:
        print(f"overt-camera simulate: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {
                    k: summary[k]
                    for k in (
                        "cameras",
                        "uploads",
                        "bytes",
                        "errors",
                        "p50_s",
                        "p95_s",
                        "p99_s",
                        "sha256s",
                    )
                }
            )
        )
    else:
        print(
            f"{summary['cameras']} cameras, {summary['uploads']} uploads, "
            f"{summary['bytes']} bytes, {summary['errors']} errors in {summary['wall_s']} s; "
            f"latency p50 {summary['p50_s']} s, p95 {summary['p95_s']} s, "
            f"p99 {summary['p99_s']} s"
        )
    return 0 if summary["errors"] == 0 else 1


def register(commands: Any) -> None:
    """Add `simulate` to the `overt-camera` command (its OPTIONAL_COMMANDS hook)."""
    add_arguments(commands.add_parser("simulate", help="a fleet of virtual cameras docking"))


def main(argv: Sequence[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="overt-camera simulate", description=__doc__.split("\n")[0])
    add_arguments(top)
    args = top.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
