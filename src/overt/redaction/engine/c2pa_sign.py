"""C2PA content credentials for redacted copies (c2pa-python).

Each instance signs with its own certificate, made on first use and kept in
``$OVERT_HOME/keys/`` (folder 0700, private key 0600):

- ``c2pa-root.pem``: a self-signed ES256 (P-256) root, the instance's own trust anchor;
- ``c2pa-signer.pem``: the signing certificate it issued (digitalSignature, the
  emailProtection EKU that C2PA accepts), followed by the root: the chain c2pa embeds;
- ``c2pa-signer.key``: the signer's private key (PKCS#8 PEM).

The root's private key is discarded once the signer is issued, so nothing on the
instance can mint another signer under it. A force that runs its own PKI replaces
``c2pa-signer.pem`` and ``c2pa-signer.key`` with a signer issued by its CA (same file
names, chain in the .pem, leaf first); overt uses whatever it finds there. Validators
then show the credentials as signed by that force; with the self-made root they show
"Valid" (intact, signature good) but not "Trusted" until the root is added to their
trust list, which is what ``c2pa-root.pem`` is published for.

The manifest names the original as a ``parentOf`` ingredient whose instance id is
``sha256:<hex>`` of the original's bytes, opens it (``c2pa.opened``), lists each
redaction (``c2pa.edited`` with what and when), the re-encode (``c2pa.transcoded``),
and carries overt's redaction manifest as an ``org.overt.redaction`` assertion.
No network is used: no timestamp authority, no OCSP, no remote manifests.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT_FILE = "c2pa-root.pem"
CHAIN_FILE = "c2pa-signer.pem"
KEY_FILE = "c2pa-signer.key"
DIR_MODE = 0o700
FILE_MODE = 0o600
ALGORITHM = "es256"
ASSERTION_LABEL = "org.overt.redaction"
_VALID_YEARS = 10
_lock = threading.Lock()


class SigningError(RuntimeError):
    """Content credentials could not be made or read; the message says why."""


@dataclass(frozen=True, slots=True)
class Credentials:
    chain_path: Path
    key_path: Path
    root_path: Path | None


def ensure_certificate(
    keys_dir: str | os.PathLike[str], *, organisation: str = "overt"
) -> Credentials:
    """The instance's C2PA signing credentials, created in `keys_dir` if absent."""
    folder = Path(keys_dir)
    chain_path, key_path, root_path = folder / CHAIN_FILE, folder / KEY_FILE, folder / ROOT_FILE
    with _lock:
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            os.chmod(folder, DIR_MODE)
        if not (chain_path.exists() and key_path.exists()):
            _generate(folder, organisation)
    _check_private(key_path)
    return Credentials(chain_path, key_path, root_path if root_path.exists() else None)


def _generate(folder: Path, organisation: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    until = now + dt.timedelta(days=365 * _VALID_YEARS)

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            ]
        )

    def usage(*, signer: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=signer,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=not signer,
            crl_sign=not signer,
            encipher_only=False,
            decipher_only=False,
        )

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(name(f"{organisation} redaction root"))
        .issuer_name(name(f"{organisation} redaction root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(signer=False), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name(f"{organisation} redaction signer"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(signer=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(folder / KEY_FILE, key_pem, FILE_MODE)
    _write(folder / ROOT_FILE, root.public_bytes(pem), 0o644)
    _write(folder / CHAIN_FILE, leaf.public_bytes(pem) + root.public_bytes(pem), 0o644)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _check_private(path: Path) -> None:
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise SigningError(
            f"refusing to sign: the C2PA signing key {path} has mode "
            f"{stat.S_IMODE(info.st_mode):04o}; run `chmod 600 {path}`"
        )


def _context() -> Any:
    import c2pa

    # Air-gapped: never fetch OCSP responses or remote manifests.
    settings = c2pa.Settings.from_dict(
        {"verify": {"ocsp_fetch": False, "remote_manifest_fetch": False}}
    )
    return c2pa.Context(settings)


def sign_video(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    credentials: Credentials,
    *,
    title: str,
    original_sha256: str,
    original_title: str,
    actions: list[dict[str, Any]],
    assertion: dict[str, Any],
    generator_version: str,
) -> None:
    """Write `src` (an MP4) to `dst` with embedded, signed content credentials."""
    import c2pa

    manifest = {
        "claim_generator_info": [{"name": "overt", "version": generator_version}],
        "title": title,
        "format": "video/mp4",
        "ingredients": [
            {
                "title": original_title,
                "format": "video/mp4",
                "relationship": "parentOf",
                "instance_id": f"sha256:{original_sha256}",
                "label": "original",
            }
        ],
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}},
                        *actions,
                        {"action": "c2pa.transcoded", "description": "re-encoded H.264/AAC"},
                    ]
                },
            },
            {"label": ASSERTION_LABEL, "data": assertion},
        ],
    }
    try:
        info = c2pa.C2paSignerInfo(
            ALGORITHM,
            credentials.chain_path.read_bytes(),
            credentials.key_path.read_bytes(),
            None,
        )
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest, _context()) as builder:
            with open(src, "rb") as source, open(dst, "w+b") as target:
                builder.sign(signer, "video/mp4", source, target)
    except c2pa.C2paError as exc:
        raise SigningError(f"could not sign the content credentials: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ReadBack:
    state: str  # "Valid", "Trusted" or "Invalid"
    manifest: dict[str, Any]
    ingredient_sha256: str | None
    actions: list[dict[str, Any]]
    assertion: dict[str, Any] | None
    signer: dict[str, Any]


def read_credentials(path: str | os.PathLike[str]) -> ReadBack:
    """Read and validate the content credentials embedded in an MP4."""
    import c2pa

    try:
        with open(path, "rb") as fh, c2pa.Reader("video/mp4", fh, None, _context()) as reader:
            state = reader.get_validation_state() or ""
            manifest = reader.get_active_manifest() or {}
    except c2pa.C2paError as exc:
        raise SigningError(f"{os.fspath(path)}: no readable content credentials: {exc}") from exc
    ingredient = None
    for item in manifest.get("ingredients", []):
        if item.get("relationship") == "parentOf":
            instance = item.get("instance_id", "")
            if instance.startswith("sha256:"):
                ingredient = instance.removeprefix("sha256:")
    actions: list[dict[str, Any]] = []
    assertion = None
    for item in manifest.get("assertions", []):
        if item.get("label", "").startswith("c2pa.actions"):
            actions.extend(item.get("data", {}).get("actions", []))
        elif item.get("label") == ASSERTION_LABEL:
            assertion = item.get("data")
    return ReadBack(
        state, manifest, ingredient, actions, assertion, manifest.get("signature_info", {})
    )
