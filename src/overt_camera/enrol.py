"""Enrolment (CAMERA_PROTOCOL.md "Enrolment"): a new Ed25519 key pair made on the device,
only the public key sent with the one-time code, the upload token received and kept.

Nothing in the home changes unless the server accepts: a wrong or expired code leaves
the device as it was. Re-enrolment makes a new key; the old one is kept (renamed) so that
manifests it signed and not yet offloaded stay verifiable on the device too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import __version__, keys, sealed
from .device import save_clock_offset
from .home import Home, HomeError, write_atomic
from .http import Client, ServerRefused, ServerUnreachable, clock_offset
from .manifest import parse_rfc3339

BOARD_SERIAL_FILES = (
    Path("/sys/firmware/devicetree/base/serial-number"),
    Path("/proc/device-tree/serial-number"),
)


class EnrolError(RuntimeError):
    """Enrolment failed; the message is for the person at the device."""


@dataclass(frozen=True)
class Enrolment:
    serial: str
    key_id: str
    server: str
    clock_offset_s: float | None
    peers: int

    def as_json(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "key_id": self.key_id,
            "server": self.server,
            "clock_offset_s": self.clock_offset_s,
            "peers": self.peers,
        }


def board_serial() -> str | None:
    for path in BOARD_SERIAL_FILES:
        try:
            text = path.read_bytes().rstrip(b"\0").decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text:
            return text
    return None


def enrol(home: Home, server: str, code: str, serial: str | None = None) -> Enrolment:
    home.create()
    config = home.load_config()
    serial = serial or config.serial or board_serial()
    if not serial:
        raise EnrolError("no serial: give --serial (the board has no serial-number file)")
    key = Ed25519PrivateKey.generate()
    public = keys.public_raw(key)
    client = Client(server, timeout=config.http_timeout_seconds, ca_file=config.server_ca)
    body = {
        "serial": serial,
        "code": code.strip(),
        "public_key": keys.b64(public),
        "agent_version": __version__,
    }
    try:
        answer, response = client.call("POST", "/api/devices/enrol/", body)
    except ServerUnreachable as exc:
        raise EnrolError(f"the server did not answer: {exc}") from exc
    except ServerRefused as exc:
        raise EnrolError(_refusal(exc)) from exc
    if not isinstance(answer, dict) or not isinstance(answer.get("device_token"), str):
        raise EnrolError("the server's answer has no device_token")
    if answer.get("key_id") not in (None, keys.key_id(public)):
        raise EnrolError("the server names another key_id than this device's key")
    server_time = _server_time(answer.get("server_time"))
    sealing = None
    if answer.get("encryption_key") is not None:  # the server's key for encryption at rest
        try:
            sealing = sealed.ServerKey.from_json(answer["encryption_key"])
        except sealed.SealError as exc:
            raise EnrolError(f"the server's answer: {exc}") from exc
    _retire_old_key(home)
    _save_key(home.key_path, key)
    home.save_token(answer["device_token"])
    if sealing is not None:
        write_atomic(home.server_key_path, json.dumps(sealing.as_json()).encode("utf-8"))
    home.save_config(config.replace(serial=answer.get("serial") or serial, server=server))
    client.token = answer["device_token"]
    peers = fetch_peers(home, client)
    client.close()
    offset = clock_offset(response, server_time)
    if offset is not None:
        save_clock_offset(home, offset)
    return Enrolment(serial, keys.key_id(public), server, offset, peers)


def _refusal(exc: ServerRefused) -> str:
    if exc.status == 403:
        return f"this device is revoked on the server: {exc.detail}"
    if exc.status == 410:
        return f"the enrolment code has expired or was used: {exc.detail}"
    if exc.status == 400:
        return f"the enrolment code or request was refused: {exc.detail}"
    if exc.status == 404:
        return "the server has no enrolment endpoint (/api/devices/enrol/): is it overt?"
    if exc.status == 429:
        return f"too many enrolment attempts; wait and try again: {exc.detail}"
    return f"the server refused the enrolment ({exc.status}): {exc.detail}"


def _server_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_rfc3339(value)
    except ValueError:
        return None


def _retire_old_key(home: Home) -> None:
    if not home.key_path.exists():
        return
    old = keys.load(home.key_path)
    retired = home.root / f"device.key.retired-{keys.key_id(keys.public_raw(old))}"
    os.replace(home.key_path, retired)


def _save_key(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_atomic(path, pem, 0o600)


def fetch_peers(home: Home, client: Client) -> int:
    """The force's device keys for peer start; an older server without the list is fine."""
    try:
        answer, _ = client.call("GET", "/api/device/peers/")
        home.save_peers(answer)
    except (ServerRefused, ServerUnreachable, HomeError):
        return len(home.peers())
    return len(home.peers())
