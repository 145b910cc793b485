"""Ed25519 signed notes in the C2SP signed-note format (as in golang.org/x/mod/sumdb/note).

A signed note is the text (UTF-8, ending in a newline), a blank line, then one or more lines
``— <key name> <base64(4-byte key ID || signature)>``. The key ID is the first four bytes of
``SHA-256(name || 0x0A || 0x01 || 32-byte Ed25519 public key)``, read as a big-endian uint32.

Key encodings:

* verifier key: ``<name>+<8 hex digits key ID>+<base64(0x01 || public key)>``
* signer key:   ``PRIVATE+KEY+<name>+<8 hex digits key ID>+<base64(0x01 || 32-byte seed)>``

Opening a note follows the spec: signatures by unknown keys are ignored, a signature by a
known key that fails to verify rejects the whole note, and a note with no verified signature
is rejected. Base64 must be canonical (standard alphabet, padded), which is stricter than Go.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "InvalidKeyError",
    "InvalidSignatureError",
    "NoteError",
    "Signature",
    "UnverifiedNoteError",
    "Verifier",
    "b64decode_strict",
    "is_valid_key_name",
    "key_hash",
    "open_note",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_note",
    "signer_key",
    "verifier_key",
]

ALG_ED25519 = 0x01
MAX_SIGNATURES = 100  # spec requires accepting at least 16; Go's reference stops at 100
_SIG_PREFIX = "— "  # em dash U+2014, space
_HEX8 = re.compile(r"[0-9a-f]{8}")  # C2SP: fixed-length lowercase hex


class NoteError(ValueError):
    """The note (or a key) is malformed, or cannot be trusted."""


class InvalidKeyError(NoteError):
    """A verifier or signer key string is malformed or its key ID does not match."""


class InvalidSignatureError(NoteError):
    """A signature from a known key failed to verify: the note must be rejected."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: int
    base64: str


class UnverifiedNoteError(NoteError):
    """Well-formed note, but no signature is from a known key."""

    def __init__(self, text: str, signatures: list[Signature]) -> None:
        names = ", ".join(f"{s.name}+{s.key_id:08x}" for s in signatures)
        super().__init__(f"note has no verifiable signatures (signed by: {names})")
        self.text = text
        self.signatures = signatures


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: int
    public_key: Ed25519PublicKey

    @classmethod
    def from_public_key(cls, name: str, public_key: Ed25519PublicKey) -> Verifier:
        _check_name(name)
        return cls(name, key_hash(name, public_key.public_bytes_raw()), public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __str__(self) -> str:
        return verifier_key(self.name, self.public_key)


def is_valid_key_name(name: str) -> bool:
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(ch.isspace() or ch < " " for ch in name)
        and _is_utf8_encodable(name)
    )


def _check_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise InvalidKeyError(f"invalid key name {name!r}: must be non-empty, no spaces or '+'")


def _is_utf8_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def b64decode_strict(text: str) -> bytes | None:
    """Standard padded base64 whose re-encoding is identical, else None."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def key_hash(name: str, public_key: bytes) -> int:
    """C2SP key ID of a raw 32-byte Ed25519 public key, as a uint32."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key)
    return int.from_bytes(digest.digest()[:4], "big")


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    _check_name(name)
    raw = public_key.public_bytes_raw()
    encoded = base64.b64encode(bytes([ALG_ED25519]) + raw).decode("ascii")
    return f"{name}+{key_hash(name, raw):08x}+{encoded}"


def signer_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Secret key string; treat it like the private key it contains."""
    _check_name(name)
    raw_public = private_key.public_key().public_bytes_raw()
    seed = private_key.private_bytes_raw()
    encoded = base64.b64encode(bytes([ALG_ED25519]) + seed).decode("ascii")
    return f"PRIVATE+KEY+{name}+{key_hash(name, raw_public):08x}+{encoded}"


def _parse_key_fields(fields: list[str], what: str) -> tuple[str, int, bytes]:
    if len(fields) != 3:
        raise InvalidKeyError(f"malformed {what} key")
    name, hex_id, encoded = fields
    key = b64decode_strict(encoded)
    if not is_valid_key_name(name) or not _HEX8.fullmatch(hex_id) or not key:
        raise InvalidKeyError(f"malformed {what} key")
    if key[0] != ALG_ED25519 or len(key) != 33:
        raise InvalidKeyError(f"{what} key is not an Ed25519 key")
    return name, int(hex_id, 16), key[1:]


def parse_verifier_key(text: str) -> Verifier:
    name, key_id, raw = _parse_key_fields(text.split("+", 2), "verifier")
    if key_hash(name, raw) != key_id:
        raise InvalidKeyError("verifier key ID does not match the key")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise InvalidKeyError("verifier key is not a valid Ed25519 public key") from exc
    return Verifier(name, key_id, public_key)


def parse_signer_key(text: str) -> tuple[str, Ed25519PrivateKey]:
    fields = text.split("+", 4)  # base64 may itself contain '+'
    if fields[:2] != ["PRIVATE", "KEY"]:
        raise InvalidKeyError("malformed signer key")
    name, key_id, seed = _parse_key_fields(fields[2:], "signer")
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    if key_hash(name, private_key.public_key().public_bytes_raw()) != key_id:
        raise InvalidKeyError("signer key ID does not match the key")
    return name, private_key


def _check_note_chars(text: str) -> None:
    if any(ch < " " and ch != "\n" for ch in text) or not _is_utf8_encodable(text):
        raise NoteError("malformed note: control character or invalid UTF-8")


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``text`` (which must end in a newline) and return the signed note."""
    if not text.endswith("\n"):
        raise NoteError("malformed note: text must end with a newline")
    _check_note_chars(text)
    _check_name(name)
    raw_public = private_key.public_key().public_bytes_raw()
    key_id = key_hash(name, raw_public).to_bytes(4, "big")
    signature = private_key.sign(text.encode("utf-8"))
    encoded = base64.b64encode(key_id + signature).decode("ascii")
    return f"{text}\n{_SIG_PREFIX}{name} {encoded}\n"


def _index_verifiers(
    verifiers: Iterable[Verifier | str],
) -> tuple[dict[tuple[str, int], Verifier], set[tuple[str, int]]]:
    """Known verifiers by (name, key ID), plus identities claimed by two different keys."""
    known: dict[tuple[str, int], Verifier] = {}
    ambiguous: set[tuple[str, int]] = set()
    for item in verifiers:
        verifier = parse_verifier_key(item) if isinstance(item, str) else item
        ident = (verifier.name, verifier.key_id)
        previous = known.setdefault(ident, verifier)
        raw = verifier.public_key.public_bytes_raw()
        if previous.public_key.public_bytes_raw() != raw:
            ambiguous.add(ident)
    return known, ambiguous


def _parse_signature_line(line: str) -> tuple[Signature, bytes]:
    if not line.startswith(_SIG_PREFIX):
        raise NoteError("malformed note: bad signature line")
    name, _, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    raw = b64decode_strict(encoded)
    if not is_valid_key_name(name) or raw is None or len(raw) < 5:
        raise NoteError("malformed note: bad signature line")
    key_id = int.from_bytes(raw[:4], "big")
    return Signature(name, key_id, encoded), raw[4:]


def open_note(
    signed_note: str | bytes, verifiers: Iterable[Verifier | str]
) -> tuple[str, list[str]]:
    """Check a signed note; return its text and the names of the keys that verified it.

    Raises ``NoteError`` if malformed, ``InvalidSignatureError`` if a known key's signature
    is bad, and ``UnverifiedNoteError`` if no signature comes from a known key.
    """
    if isinstance(signed_note, bytes):
        try:
            signed_note = signed_note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("malformed note: invalid UTF-8") from exc
    _check_note_chars(signed_note)
    split = signed_note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before signatures")
    text, signature_block = signed_note[: split + 1], signed_note[split + 2 :]
    if not signature_block.endswith("\n"):
        raise NoteError("malformed note: missing signatures or final newline")
    lines = signature_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("malformed note: too many signatures")

    known, ambiguous = _index_verifiers(verifiers)
    message = text.encode("utf-8")
    verified: list[str] = []
    unverified: list[Signature] = []
    for line in lines:
        signature, raw_signature = _parse_signature_line(line)
        ident = (signature.name, signature.key_id)
        verifier = known.get(ident)
        if verifier is None:
            if signature not in unverified:  # Go drops repeated identical lines too
                unverified.append(signature)
            continue
        if ident in ambiguous:
            raise NoteError(f"ambiguous key {signature.name}+{signature.key_id:08x}")
        # Unlike Go, which skips repeats of a key, every known-key signature is checked:
        # the spec says verifiers MUST verify them.
        if not verifier.verify(message, raw_signature):
            raise InvalidSignatureError(signature.name, signature.key_id)
        if signature.name not in verified:
            verified.append(signature.name)
    if not verified:
        raise UnverifiedNoteError(text, unverified)
    return text, verified
