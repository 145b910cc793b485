#!/usr/bin/env python3
"""overt_verify.py: check an overt chain-of-custody report, offline, without overt.

Usage:
    python3 overt_verify.py report.json [--exhibit FILE ...] [--key VERIFIER_KEY]

Needs Python 3.9 or later and the `cryptography` package, nothing else. This one file is
all of the checking code, so that it can be read in full.

What it checks:
 1. The verifier key is well formed (C2SP signed-note verifier key, Ed25519), and, if you
    pass --key with the key you obtained independently (the force's published key or a
    witness's copy), that the report's key is that same key.
 2. The checkpoint (C2SP tlog-checkpoint) carries a valid Ed25519 signature by that key.
 3. Every custody entry: its SHA-256 leaf hash (RFC 9162: SHA-256 of 0x00 then the entry's
    bytes) is the one stated, its sequence number is its position, and its inclusion proof
    leads to the signed root (RFC 9162 section 2.1.3.2).
 4. Every original in the report has an `ingest` entry, and that entry names the same hash.
 5. Each --exhibit file's SHA-256 matches an original in the report.

Exit status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - said plainly to the person running it
    sys.stderr.write("This checker needs the 'cryptography' package: pip install cryptography\n")
    sys.exit(1)

SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space start each signature line


class Failure(Exception):
    pass


# --- RFC 9162 hashing and inclusion proofs ----------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_root(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes | None:
    """The root that an inclusion proof leads to, or None if the proof has the wrong shape."""
    if not 0 <= index < size:
        return None
    node, last = index, size - 1
    value = leaf
    for sibling in path:
        if last == 0:
            return None  # more hashes than the path from the leaf to the root
        if node % 2 == 1 or node == last:
            value = node_hash(sibling, value)
            if node % 2 == 0:
                # The rightmost node of its level with no sibling: move up until it is a
                # right-hand child.
                while node != 0 and node % 2 == 0:
                    node //= 2
                    last //= 2
        else:
            value = node_hash(value, sibling)
        node //= 2
        last //= 2
    return value if last == 0 else None


# --- C2SP signed notes and checkpoints --------------------------------------------------------


def strict_b64(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Failure(f"not valid base64: {text[:40]!r}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise Failure(f"not canonical base64: {text[:40]!r}")
    return raw


def key_id(name: str, public_key: bytes) -> int:
    digest = hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def parse_verifier_key(text: str) -> tuple[str, int, bytes]:
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not parts[0] or len(parts[1]) != 8:
        raise Failure("the verifier key is not in the form NAME+KEYID+KEY")
    name, hex_id, encoded = parts
    try:
        wanted_id = int(hex_id, 16)
    except ValueError:
        raise Failure("the verifier key's ID is not hexadecimal") from None
    raw = strict_b64(encoded)
    if len(raw) != 33 or raw[0] != 1:
        raise Failure("the verifier key is not an Ed25519 key")
    public_key = raw[1:]
    if key_id(name, public_key) != wanted_id:
        raise Failure("the verifier key's ID does not match the key")
    return name, wanted_id, public_key


def open_signed_note(note: str, name: str, wanted_id: int, public_key: bytes) -> str:
    """Return the note's text if the key signed it; raise Failure otherwise."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise Failure("the checkpoint is not a signed note (no signature block)")
    text, block = note[: split + 1], note[split + 2 : -1]
    verifier = Ed25519PublicKey.from_public_bytes(public_key)
    good = False
    for line in block.split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise Failure("the checkpoint has a malformed signature line")
        signer, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = strict_b64(encoded)
        if len(raw) < 5 or signer != name or int.from_bytes(raw[:4], "big") != wanted_id:
            continue  # someone else's signature, e.g. a witness: not ours to judge
        try:
            verifier.verify(raw[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise Failure("the checkpoint's signature by this key is INVALID") from None
        good = True
    if not good:
        raise Failure("the checkpoint is not signed by this verifier key")
    return text


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise Failure("the checkpoint needs an origin, a size and a root hash")
    origin, size_text, root_text = lines[:3]
    decimal = size_text.isascii() and size_text.isdigit()
    if not decimal or (size_text[0] == "0" and size_text != "0"):
        raise Failure(f"the checkpoint's tree size {size_text!r} is not a number")
    root = strict_b64(root_text)
    if len(root) != 32:
        raise Failure("the checkpoint's root hash is not 32 bytes")
    return origin, int(size_text), root


# --- the report -------------------------------------------------------------------------------


def hex_bytes(value: object, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise Failure(f"{what} is not a 64-digit hex hash")
    return raw


def file_sha256(path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class Checker:
    def __init__(self) -> None:
        self.failures = 0

    def ok(self, message: str) -> None:
        print(f"PASS  {message}")

    def fail(self, message: str) -> None:
        self.failures += 1
        print(f"FAIL  {message}")

    def note(self, message: str) -> None:
        print(f"NOTE  {message}")


def check_report(report: dict, exhibits: list[str], trusted_key: str | None, out: Checker) -> None:
    # 1. The key.
    try:
        name, wanted_id, public_key = parse_verifier_key(str(report.get("verifier_key", "")))
    except Failure as exc:
        out.fail(f"verifier key: {exc}")
        return
    out.ok(f"the verifier key is well formed (signer {name}, key ID {wanted_id:08x})")
    if trusted_key is not None:
        try:
            trusted = parse_verifier_key(trusted_key)
        except Failure as exc:
            out.fail(f"the key given with --key: {exc}")
        else:
            if trusted == (name, wanted_id, public_key):
                out.ok("the report's verifier key is the key you supplied with --key")
            else:
                out.fail("the report's verifier key is NOT the key you supplied with --key")
    else:
        out.note(
            "the verifier key was taken from the report itself; compare it with the key the "
            "force publishes and pass it with --key to rule out a substituted key"
        )

    # 2. The checkpoint.
    checkpoint = report.get("checkpoint") or {}
    try:
        text = open_signed_note(str(checkpoint.get("note", "")), name, wanted_id, public_key)
        origin, size, root = parse_checkpoint(text)
    except Failure as exc:
        out.fail(f"checkpoint: {exc}")
        return
    out.ok(f"the checkpoint is validly signed: log {origin!r} at {size} entries")
    if origin != name:
        out.fail(f"the checkpoint's origin {origin!r} is not the key's name {name!r}")
    if checkpoint.get("size") != size or checkpoint.get("root") != root.hex():
        out.fail("the report's summary of the checkpoint differs from the signed checkpoint")

    # 3. The entries.
    originals = {o.get("sha256"): o for o in report.get("originals", [])}
    ingested: dict[str, dict] = {}
    entries = report.get("entries", [])
    bad_before = out.failures
    for item in entries:
        index = item.get("leaf_index")
        where = f"entry {index}"
        try:
            data = str(item["entry"]).encode("utf-8")
            body = json.loads(data)
            proof = item["proof"]
            stated = hex_bytes(item.get("leaf_hash"), f"{where}: the leaf hash")
            path = [hex_bytes(h, f"{where}: a proof hash") for h in proof["hashes"]]
        except (KeyError, TypeError, ValueError, Failure) as exc:
            out.fail(f"{where}: cannot be read ({exc})")
            continue
        actual = leaf_hash(data)
        if not hmac.compare_digest(actual, stated):
            out.fail(f"{where}: its text does not match its leaf hash (the entry was altered)")
            continue
        if proof.get("leaf_index") != index or proof.get("tree_size") != size:
            out.fail(f"{where}: its proof is for a different entry or tree size")
            continue
        if proof.get("leaf_hash") != stated.hex() or proof.get("root") != root.hex():
            out.fail(f"{where}: its proof is not against the signed checkpoint")
            continue
        reached = inclusion_root(actual, index, size, path)
        if reached is None or not hmac.compare_digest(reached, root):
            out.fail(f"{where}: its inclusion proof does not lead to the signed root")
            continue
        if not isinstance(body, dict) or body.get("seq") != index:
            out.fail(f"{where}: its sequence number is not its position in the log")
            continue
        sha = (body.get("object") or {}).get("sha256")
        if sha not in originals:
            out.fail(f"{where}: it is about an object that is not an original in this report")
            continue
        if body.get("action") == "ingest":
            ingested.setdefault(sha, body)
    if out.failures == bad_before:
        out.ok(f"all {len(entries)} custody entries are intact and included in the signed log")

    # 4. Each original was received, as recorded.
    for sha, original in originals.items():
        label = f"original {original.get('id')} ({original.get('filename')})"
        body = ingested.get(sha)
        if body is None:
            out.fail(f"{label}: the report has no ingest entry for it")
            continue
        size_recorded = (body.get("details") or {}).get("size")
        if size_recorded is not None and size_recorded != original.get("size"):
            out.fail(f"{label}: the size recorded at ingest differs from the report's")
            continue
        out.ok(f"{label}: received at {body.get('time')}, SHA-256 {sha}")

    # 5. The exhibits.
    for path in exhibits:
        try:
            digest, length = file_sha256(path)
        except OSError as exc:
            out.fail(f"exhibit {path}: cannot be read ({exc.strerror})")
            continue
        match = originals.get(digest)
        if match is None:
            out.fail(f"exhibit {path}: its SHA-256 {digest} matches NO original in the report")
        elif match.get("size") != length:
            out.fail(f"exhibit {path}: the hash matches but the size differs")
        else:
            out.ok(
                f"exhibit {path} is byte-identical to original {match.get('id')} "
                f"(SHA-256 {digest})"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check an overt chain-of-custody report offline.")
    parser.add_argument("report", help="the report.json file")
    parser.add_argument("--exhibit", action="append", default=[], help="an exhibit file to check")
    parser.add_argument("--key", help="the verifier key you obtained independently")
    args = parser.parse_args(argv)
    out = Checker()
    try:
        with open(args.report, encoding="utf-8") as fh:
            report = json.load(fh)
        if not isinstance(report, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        out.fail(f"cannot read the report {args.report}: {exc}")
        report = None
    if report is not None:
        check_report(report, args.exhibit, args.key, out)
    print()
    if out.failures == 0:
        print(
            "VERDICT: PASS. Every check succeeded: the custody entries in this report are part of "
            "the log signed by the key shown"
            + (", and each exhibit is byte-identical to an original." if args.exhibit else ".")
        )
        return 0
    print(
        f"VERDICT: FAIL. {out.failures} check(s) failed (marked FAIL above). Do not rely on this "
        "report until each failure is explained."
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
