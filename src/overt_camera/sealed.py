"""Segments encrypted at rest on the device (`encrypt_at_rest`; docs/camera.md "Encryption
at rest"), so that whoever takes the device cannot read its spool, and only the server can.

At enrolment the server hands over an X25519 public key (kept in DIR/server-key.json). Each
segment gets a fresh X25519 key pair: its private half meets the server's public key once
(ECDH), HKDF-SHA256 turns the shared secret into the segment's AES-256-GCM key, and the
private half is dropped. The device then holds nothing that decrypts a closed segment; the
server, with its private key, derives the same key from the segment's header.

A sealed file (it keeps its .mp4 name on the spool):

    MAGIC (11 bytes) | server key id (16 ASCII hex) | ephemeral X25519 public key (32)
    then records:    length of the sealed bytes (4, big-endian) | sealed bytes

Record i is AES-256-GCM with nonce i (12 bytes, big-endian) and the header plus i (8
bytes) as associated data, so records cannot be reordered, moved between files or
altered unseen. One record is what the muxer wrote up to a fragment's end; each is
written and fsynced as it closes, as a plain segment's fragment is.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"OVERTSEAL1\n"
SCHEME = "x25519-hkdf-sha256-aes-256-gcm/1"
INFO = b"overt capture segment at rest/1"
HEADER_BYTES = len(MAGIC) + 16 + 32


class SealError(ValueError):
    """A sealed file that does not open: the message says why."""


@dataclass(frozen=True)
class ServerKey:
    key_id: str  # 16 hex digits: the start of the SHA-256 of the raw public key
    public_key: bytes  # 32 raw bytes

    @classmethod
    def from_json(cls, data: object) -> ServerKey:
        if not isinstance(data, dict) or data.get("scheme") != SCHEME:
            raise SealError(f"server key: expected {{scheme: {SCHEME!r}, key_id, public_key}}")
        try:
            public = base64.b64decode(str(data["public_key"]), validate=True)
        except (KeyError, ValueError) as exc:
            raise SealError("server key: public_key is not base64") from exc
        if len(public) != 32 or key_id(public) != data.get("key_id"):
            raise SealError("server key: not a 32-byte X25519 key matching its key_id")
        return cls(key_id(public), public)

    def as_json(self) -> dict[str, str]:
        return {
            "scheme": SCHEME,
            "key_id": self.key_id,
            "public_key": base64.b64encode(self.public_key).decode("ascii"),
        }


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def load_server_key(path: Path) -> ServerKey:
    try:
        return ServerKey.from_json(json.loads(path.read_text("utf-8")))
    except FileNotFoundError:
        raise SealError(
            f"encrypt_at_rest is on but {path} is missing: enrol again with a server that "
            "gives an encryption key"
        ) from None
    except ValueError as exc:
        raise SealError(f"{path}: {exc}") from exc


def segment_key(shared: bytes, ephemeral: bytes, server: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=ephemeral + server, info=INFO).derive(shared)


class Sealer:
    """Seals one segment's bytes, record by record."""

    def __init__(self, server: ServerKey) -> None:
        private = X25519PrivateKey.generate()
        ephemeral = private.public_key().public_bytes_raw()
        shared = private.exchange(X25519PublicKey.from_public_bytes(server.public_key))
        self._aead = AESGCM(segment_key(shared, ephemeral, server.public_key))
        self.header = MAGIC + server.key_id.encode("ascii") + ephemeral
        self.server_key_id = server.key_id
        self.ephemeral = ephemeral
        self._index = 0

    def seal(self, plaintext: bytes) -> bytes:
        index = self._index
        self._index += 1
        aad = self.header + struct.pack(">Q", index)
        sealed = self._aead.encrypt(index.to_bytes(12, "big"), plaintext, aad)
        return struct.pack(">I", len(sealed)) + sealed

    def describe(self, sealed_sha256: str, sealed_size: int) -> dict[str, object]:
        """The manifest's `encryption` member."""
        return {
            "scheme": SCHEME,
            "server_key_id": self.server_key_id,
            "ephemeral_public_key": base64.b64encode(self.ephemeral).decode("ascii"),
            "sealed_sha256": sealed_sha256,
            "sealed_size": sealed_size,
        }


def is_sealed(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def describe_file(path: Path, size: int | None = None) -> dict[str, object]:
    """The `encryption` member for a sealed file as it is on disk (recovery's case)."""
    with path.open("rb") as handle:
        header = handle.read(HEADER_BYTES)
        digest = hashlib.sha256(header)
        left = (size if size is not None else path.stat().st_size) - len(header)
        while left > 0:
            block = handle.read(min(1 << 20, left))
            if not block:
                break
            digest.update(block)
            left -= len(block)
    if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
        raise SealError(f"{path.name}: not a sealed segment")
    return {
        "scheme": SCHEME,
        "server_key_id": header[len(MAGIC) : len(MAGIC) + 16].decode("ascii"),
        "ephemeral_public_key": base64.b64encode(header[-32:]).decode("ascii"),
        "sealed_sha256": digest.hexdigest(),
        "sealed_size": size if size is not None else path.stat().st_size,
    }
