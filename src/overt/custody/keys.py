"""The instance's checkpoint signing key, kept outside the database.

The key is made once, when the instance is created (``overt.cli.bootstrap.setup`` calls
``ensure_signing_key``), and lives at ``$OVERT_HOME/keys/custody-signer.key`` in the C2SP
signer-key form. The folder must be mode 0700 and the file 0600: signing is refused when
either is readable or writable by anyone but the owner.

The key name, which is also the checkpoints' origin line, is ``overt.<instance id>/custody``
where the instance id is 16 random hex digits chosen with the key. It never changes for the
life of the instance, so it names this log to witnesses and in every export.
"""

from __future__ import annotations

import os
import secrets
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from overt.conf import get_settings

from .errors import CustodyError
from .note import NoteError, Verifier, parse_signer_key, signer_key

KEY_DIR_NAME = "keys"
KEY_FILE_NAME = "custody-signer.key"
DIR_MODE = 0o700
FILE_MODE = 0o600

__all__ = [
    "SigningKey",
    "SigningKeyError",
    "ensure_signing_key",
    "key_path",
    "load_signing_key",
    "origin",
    "verifier",
    "verifier_key_text",
]


class SigningKeyError(CustodyError):
    """The signing key is missing, malformed or not private enough; the message says which."""


@dataclass(frozen=True)
class SigningKey:
    name: str  # also the checkpoint origin
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier.from_public_key(self.name, self.private_key.public_key())


_lock = threading.Lock()
_cache: dict[Path, tuple[float, int, SigningKey]] = {}


def key_path() -> Path:
    return get_settings().home_dir / KEY_DIR_NAME / KEY_FILE_NAME


def ensure_signing_key() -> bool:
    """Create the instance's signing key if it has none; return True if one was made."""
    path = key_path()
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, DIR_MODE)
    if path.exists():
        return False
    name = f"overt.{secrets.token_hex(8)}/custody"
    text = signer_key(name, Ed25519PrivateKey.generate()) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:  # another process made it first; theirs stands
        return False
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _check_private(path: Path, wanted: int, what: str) -> os.stat_result:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SigningKeyError(
            f"no custody signing key at {path}: run `overt init` to create the instance's key"
        ) from None
    loose = stat.S_IMODE(info.st_mode) & 0o077
    if loose:
        raise SigningKeyError(
            f"refusing to use the custody signing key: {what} {path} has mode "
            f"{stat.S_IMODE(info.st_mode):04o}, which lets other users read or change it; "
            f"run `chmod {wanted:o} {path}`"
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise SigningKeyError(
            f"refusing to use the custody signing key: {what} {path} belongs to user id "
            f"{info.st_uid}, not to the user running overt ({os.getuid()})"
        )
    return info


def load_signing_key(*, check_permissions: bool = True) -> SigningKey:
    """The signing key, after checking that only its owner can read it.

    ``check_permissions=False`` is for reading the public half only (publishing the verifier
    key); anything that signs must keep the default.
    """
    ensure_signing_key()
    path = key_path()
    if check_permissions:
        _check_private(path.parent, DIR_MODE, "folder")
        info = _check_private(path, FILE_MODE, "file")
    else:
        info = path.stat()
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == info.st_mtime and cached[1] == info.st_ino:
            return cached[2]
        try:
            name, private_key = parse_signer_key(path.read_text("ascii").strip())
        except (NoteError, UnicodeDecodeError, ValueError) as exc:
            raise SigningKeyError(f"the custody signing key at {path} is malformed: {exc}") from exc
        key = SigningKey(name, private_key)
        _cache[path] = (info.st_mtime, info.st_ino, key)
        return key


def origin() -> str:
    return load_signing_key(check_permissions=False).name


def verifier() -> Verifier:
    return load_signing_key(check_permissions=False).verifier


def verifier_key_text() -> str:
    """The verifier key in the C2SP note verifier-key form, e.g. for the well-known URL."""
    return str(verifier())
