"""C2SP tlog-checkpoint: the signed tree head of a transparency log.

The checkpoint body is the note text::

    <origin>\\n
    <tree size, decimal, no leading zeros>\\n
    <base64 of the 32-byte RFC 9162 root hash>\\n
    [<extension line>\\n ...]

and it is signed as a C2SP signed note (see ``note``).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .merkle import HASH_SIZE
from .note import NoteError, Verifier, b64decode_strict, open_note, sign_note

__all__ = ["Checkpoint", "CheckpointError", "parse", "sign", "verify"]

MAX_TREE_SIZE = 2**64 - 1  # sizes are uint64 in every tlog implementation
_DECIMAL = re.compile(r"0|[1-9][0-9]*")  # ASCII only; str.isdigit() would admit other scripts


class CheckpointError(NoteError):
    """The checkpoint body is malformed."""


def _valid_line(line: str) -> bool:
    return line != "" and not any(ch < " " for ch in line)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _valid_line(self.origin):
            raise CheckpointError("origin must be a non-empty line without control characters")
        if (
            not isinstance(self.size, int)
            or isinstance(self.size, bool)
            or not 0 <= self.size <= MAX_TREE_SIZE
        ):
            raise CheckpointError("tree size must be an integer in 0..2**64-1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")
        if not all(isinstance(e, str) and _valid_line(e) for e in self.extensions):
            raise CheckpointError("extension lines must be non-empty, without control characters")

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii")]
        return "".join(f"{line}\n" for line in (*lines, *self.extensions))


def parse(body: str) -> Checkpoint:
    """Strictly parse a checkpoint body (the note text, ending in a newline)."""
    if not body.endswith("\n"):
        raise CheckpointError("checkpoint body must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint body needs origin, size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_TREE_SIZE:
        raise CheckpointError(f"invalid tree size {size_text!r}")
    root_hash = b64decode_strict(root_text)
    if root_hash is None or len(root_hash) != HASH_SIZE:
        raise CheckpointError("root hash must be canonical base64 of 32 bytes")
    return Checkpoint(origin, int(size_text), root_hash, tuple(extensions))


def sign(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    """Signed note carrying the checkpoint. The spec asks that ``name`` match the origin."""
    return sign_note(checkpoint.body(), name, private_key)


def verify(
    signed: str | bytes, verifier_key: str | Verifier, origin: str | None = None
) -> Checkpoint:
    """Open a signed checkpoint with one trusted key and parse it strictly.

    Pass ``origin`` to also require the log identity you expect; without it, any log signed
    by this key is accepted. Other signatures (witness cosignatures, rotated keys) are ignored.
    """
    text, _ = open_note(signed, [verifier_key])
    checkpoint = parse(text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint
