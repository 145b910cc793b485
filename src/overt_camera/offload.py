"""Offload (CAMERA_PROTOCOL.md): oldest segment first, its manifest POSTed, then the
segment by tus (resumable), then the server asked whether it stored the segment with the
manifest's hash; only then is the segment deleted on the device. Device status is
reported and config fetched at each offload; a server without those endpoints (404) is
no reason to stop offloading.

Functions, not a daemon: `run` calls `offload_once` in a loop, the CLI once, and the
fleet simulator may call it for its virtual cameras.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, device, manifest
from . import config as config_mod
from .config import ConfigError
from .home import Home, append_line
from .http import Client, ServerRefused, ServerUnreachable, clock_offset
from .manifest import parse_rfc3339, rfc3339, sha256_file
from .tus import TusUpload

log = logging.getLogger(__name__)
CONFIRM_TRIES = 20  # ingest may finish in a job after the last PATCH: ask a few times


def pending(home: Home) -> list[Path]:
    """Closed segments (with a manifest) still on the device, in chain order."""
    return [p for p in sorted(home.spool.glob("*.mp4")) if manifest.manifest_path(p).exists()]


def upload_state_path(segment: Path) -> Path:
    return segment.with_suffix(".upload.json")


@dataclass
class OffloadReport:
    offloaded: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pending_segments: int = 0
    pending_bytes: int = 0
    clock_offset_s: float | None = None
    config_version: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "offloaded": self.offloaded,
            "kept": self.kept,
            "errors": self.errors,
            "pending_segments": self.pending_segments,
            "pending_bytes": self.pending_bytes,
            "clock_offset_s": self.clock_offset_s,
            "config_version": self.config_version,
        }

    def summary(self) -> str:
        lines = [f"offloaded {len(self.offloaded)} segment(s); {self.pending_segments} pending"]
        lines += [f"kept {k['segment']}: {k['reason']}" for k in self.kept]
        lines += [f"error: {e}" for e in self.errors]
        return "\n".join(lines)


class Kept(RuntimeError):
    """The segment stays on the device; the message says why."""


@contextmanager
def exclusive(path: Path) -> Iterator[bool]:
    """A non-blocking lock file: yields whether this process holds it."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def client_for(home: Home) -> Client:
    config = home.load_config()
    if not config.server:
        raise ConfigError("no server: enrol first (`overt-camera enrol`)")
    return Client(config.server, home.token(), config.http_timeout_seconds, config.server_ca)


def offload_once(
    home: Home,
    client: Client,
    last_error: str | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> OffloadReport:
    """One pass: status and config, then every pending segment, oldest first."""
    report = OffloadReport()
    with exclusive(home.root / "offload.lock") as mine:
        if not mine:
            report.errors.append("another offload is running on this home")
        else:
            try:
                _exchange(home, client, report, last_error)
            except ServerUnreachable as exc:
                report.errors.append(f"server unreachable: {exc}")
                stop = lambda: True  # noqa: E731 - nothing to send to
            for segment in pending(home):
                if stop():
                    break
                try:
                    report.offloaded.append(offload_segment(home, client, segment))
                except Kept as exc:
                    report.kept.append({"segment": segment.name, "reason": str(exc)})
                except ServerUnreachable as exc:
                    report.errors.append(f"{segment.name}: server unreachable ({exc})")
                    break
                except ServerRefused as exc:
                    report.errors.append(f"{segment.name}: refused ({exc})")
    left = pending(home)
    report.pending_segments = len(left)
    report.pending_bytes = sum(p.stat().st_size for p in left)
    return report


def offload_segment(home: Home, client: Client, segment: Path) -> dict[str, Any]:
    data, signature = manifest.read(segment)
    manifest_sha256 = hashlib.sha256(data).hexdigest()
    facts = json.loads(data)
    payload = {"manifest": _b64(data), "signature": _b64(signature)}
    client.call("POST", "/api/capture/manifests/", payload)
    current = sha256_file(segment)
    config = home.load_config()
    metadata = {
        "filename": segment.name,
        "device": facts["device_serial"],
        "sha256": current,
        "started_at": facts["started_at"],
        "stopped_at": facts["ended_at"],
        "capture-manifest": manifest_sha256,
        "capture-recording": facts["recording_id"],
    }
    upload = TusUpload(
        client,
        segment,
        metadata,
        upload_state_path(segment),
        config.offload_chunk_bytes,
        config.offload_bandwidth_kbps,
    )
    began = time.monotonic()
    result = upload.run()
    took = time.monotonic() - began
    answer = _confirm(client, manifest_sha256)
    if answer.get("sha256") != facts["sha256"]:
        raise Kept(
            f"the server stored it with sha256 {answer.get('sha256')}, not the manifest's "
            f"{facts['sha256']}: kept on the device (altered after signing?)"
        )
    record = {
        "segment": segment.name,
        "manifest_sha256": manifest_sha256,
        "sha256": facts["sha256"],
        "size": segment.stat().st_size,
        "recording": answer.get("recording"),
        "capture_signature": answer.get("capture_signature"),
        "upload": result.location,
        "seconds": round(took, 3),
        "offloaded_at": rfc3339(time.time()),
    }
    append_line(home.logs / "offloaded.jsonl", record)
    for path in (
        upload_state_path(segment),
        manifest.signature_path(segment),
        manifest.manifest_path(segment),
        segment,
    ):
        path.unlink(missing_ok=True)
    log.info("offloaded %s (recording %s)", segment.name, answer.get("recording"))
    return record


def _confirm(client: Client, manifest_sha256: str) -> dict[str, Any]:
    delay = 0.1
    for _ in range(CONFIRM_TRIES):
        answer, _ = client.call("GET", f"/api/capture/manifests/{manifest_sha256}/")
        if isinstance(answer, dict) and answer.get("stored"):
            return answer
        time.sleep(delay)
        delay = min(delay * 2, 2.0)
    raise Kept("uploaded, but the server has not yet said it is stored; asking again next time")


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _exchange(home: Home, client: Client, report: OffloadReport, last_error: str | None) -> None:
    """Status out, config and peer keys in. A 404 means an older server: carry on."""
    from .enrol import fetch_peers

    config = home.load_config()
    left = pending(home)
    charge = device.battery()
    status = {
        "agent_version": __version__,
        "battery_percent": charge.percent,
        "charging": charge.charging,
        "free_bytes": device.free_bytes(home.spool),
        "pending_segments": len(left),
        "pending_bytes": sum(p.stat().st_size for p in left),
        "clock_offset_s": device.clock_offset(home),
        "last_error": last_error,
        "config_version": config.config_version,
        "reported_at": rfc3339(time.time()),
    }
    try:
        answer, response = client.call("POST", "/api/device/status/", status)
        server_time = answer.get("server_time") if isinstance(answer, dict) else None
        offset = clock_offset(response, parse_rfc3339(server_time) if server_time else None)
        if offset is not None:
            device.save_clock_offset(home, offset)
            report.clock_offset_s = offset
    except ServerRefused as exc:
        if exc.status != 404:
            report.errors.append(f"device status refused: {exc}")
    try:
        answer, _ = client.call("GET", "/api/device/config/")
        updated = config_mod.apply_server_config(config, answer)
        if updated != config:
            home.save_config(updated)
        report.config_version = updated.config_version
    except ServerRefused as exc:
        if exc.status != 404:
            report.errors.append(f"device config refused: {exc}")
    except ConfigError as exc:
        report.errors.append(f"device config not applied: {exc}")
    fetch_peers(home, client)


def offload_command(home: Home) -> OffloadReport:
    """`overt-camera offload`: recover what a dead agent left (if none runs), offload all."""
    home.check()
    from .recovery import recover

    with exclusive(home.root / "agent.lock") as no_agent:
        if no_agent:
            from . import keys

            key = keys.load(home.key_path)
            config = home.load_config()
            recover(home, key, config.serial or "", keys.key_id(keys.public_raw(key)))
    client = client_for(home)
    try:
        return offload_once(home, client)
    finally:
        client.close()
