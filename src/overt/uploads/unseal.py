"""Segments a camera sealed at rest (docs/camera.md "Encryption at rest"): the server's
X25519 key, and the opening of a sealed upload into the plaintext original.

The key is made once, on first use, at ``$OVERT_HOME/keys/capture-at-rest.key`` (PKCS#8
PEM, mode 0600 in a 0700 folder); its public half goes to each device at enrolment. A
sealed file is the agent's format (overt_camera/sealed.py, the protocol, not an import:
the agent shares no code with the server): MAGIC, the server key id, the segment's
ephemeral X25519 public key, then length-prefixed AES-256-GCM records.

`open_upload` decrypts a received upload next to it and returns the plaintext's path,
SHA-256 and size. Anything that does not open (an altered record, a cut file, another
server's key) raises SealError: the caller then stores the upload as received, and the
capture rules flag it `broken` against its signed manifest. Nothing is dropped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from overt.conf import get_settings

MAGIC = b"OVERTSEAL1\n"
SCHEME = "x25519-hkdf-sha256-aes-256-gcm/1"
INFO = b"overt capture segment at rest/1"
HEADER_BYTES = len(MAGIC) + 16 + 32
KEY_FILE = "capture-at-rest.key"
MAX_RECORD = 256 << 20  # one fragment's bytes (a second of video); more is not the agent's
_lock = threading.Lock()


class SealError(ValueError):
    """A sealed upload that does not open; the message says why."""


@dataclass(frozen=True)
class Opened:
    path: Path
    sha256: str
    size: int


def key_path() -> Path:
    return get_settings().home_dir / "keys" / KEY_FILE


def server_key() -> X25519PrivateKey:
    """The server's key for segments sealed at rest, made on first use."""
    path = key_path()
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path.parent, 0o700)
            pem = X25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first; theirs stands
                pass
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(pem)
                    handle.flush()
                    os.fsync(handle.fileno())
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, X25519PrivateKey):
        raise SealError(f"{path} does not hold an X25519 private key")
    return key


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def public_key_json() -> dict[str, str]:
    """What enrolment hands the device (`encryption_key`)."""
    public = server_key().public_key().public_bytes_raw()
    return {
        "scheme": SCHEME,
        "key_id": key_id(public),
        "public_key": base64.b64encode(public).decode("ascii"),
    }


def encryption_of(manifest: bytes) -> dict[str, Any] | None:
    """The manifest's `encryption` member, when the segment was sealed."""
    try:
        body = json.loads(manifest)
    except ValueError:
        return None
    value = body.get("encryption") if isinstance(body, dict) else None
    return value if isinstance(value, dict) else None


def open_upload(source: Path, target: Path) -> Opened:
    """Decrypt the sealed file `source` into `target` (fsynced); SealError if it does not
    open whole. `target` is removed on failure."""
    target.unlink(missing_ok=True)  # left by an attempt that did not finish
    try:
        return _open(source, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _open(source: Path, target: Path) -> Opened:
    private = server_key()
    server_public = private.public_key().public_bytes_raw()
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as sealed, target.open("xb") as plain:
        header = sealed.read(HEADER_BYTES)
        if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
            raise SealError("not a sealed segment (no header)")
        named = header[len(MAGIC) : len(MAGIC) + 16].decode("ascii", "replace")
        if named != key_id(server_public):
            raise SealError(f"sealed to server key {named}, not this server's")
        ephemeral = header[-32:]
        try:
            shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
        except ValueError as exc:
            raise SealError(f"the segment's key is not usable: {exc}") from exc
        key = HKDF(hashes.SHA256(), 32, salt=ephemeral + server_public, info=INFO).derive(shared)
        aead = AESGCM(key)
        index = 0
        while prefix := sealed.read(4):
            if len(prefix) != 4:
                raise SealError(f"record {index} is cut short")
            (length,) = struct.unpack(">I", prefix)
            if length > MAX_RECORD:
                raise SealError(f"record {index} claims {length} bytes: not a segment's")
            record = sealed.read(length)
            if length < 16 or len(record) != length:
                raise SealError(f"record {index} is cut short")
            aad = header + struct.pack(">Q", index)
            try:
                data = aead.decrypt(index.to_bytes(12, "big"), record, aad)
            except InvalidTag:
                raise SealError(f"record {index} does not decrypt: altered") from None
            plain.write(data)
            digest.update(data)
            size += len(data)
            index += 1
        plain.flush()
        os.fsync(plain.fileno())
    return Opened(target, digest.hexdigest(), size)
