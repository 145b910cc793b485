#!/usr/bin/env python3
"""overt_verify.py: check an overt chain-of-custody report, offline, without overt.

Usage:
    python3 overt_verify.py report.json [--exhibit FILE ...] [--key VERIFIER_KEY]
                            [--previous CHECKPOINT_FILE [--consistency PROOF.json]]

Needs Python 3.9 or later and the `cryptography` package, nothing else. This one file is
all of the checking code, so that it can be read in full (which is why it is one file of
some 600 lines, over the 400 lines overt's modules keep to, rather than several small ones).

What it checks, in this order:
 1. The verifier key is well formed (C2SP signed-note verifier key, Ed25519), and, if you
    pass --key with the key you obtained independently (the force's published key or a
    witness's copy), that the report's key is that same key.
 2. The checkpoint (C2SP tlog-checkpoint) is a well-formed signed note carrying a valid
    Ed25519 signature by that key. Notes the C2SP specs refuse are refused: control
    characters, more than 100 signatures, malformed signature lines, an empty origin, a
    tree size that is not decimal below 2^64, key IDs not written as 8 lowercase hex digits.
 3. Inclusion: every custody entry's SHA-256 leaf hash (RFC 9162: SHA-256 of 0x00 then the
    entry's bytes) is the one stated, its sequence number is its position, and its
    inclusion proof leads to the signed root (RFC 9162 section 2.1.3.2).
 4. Completeness: the report says what it is complete for (every entry about its originals
    in the log of the checkpoint's size), and that claim holds. Each entry about an
    original carries its number among that original's entries and the leaf index of the
    one before it, so a missing entry leaves a gap; the last must be the entry that sealed
    this report at the checkpoint's size, so entries cut from the end show too.
 5. Every original in the report has an `ingest` entry, and that entry names the same hash.
 6. With --previous, a checkpoint you hold from before (a witness's copy, an earlier
    report's): it must be signed by the same key, and the log must have only grown between
    the two (an RFC 9162 consistency proof, section 2.1.4.2, taken from the report or from
    --consistency, a file written by `overt custody consistency OLD NEW --json`).
 7. Each --exhibit file's SHA-256 matches an original in the report.

Exit status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import sys
from typing import Any

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - said plainly to the person running it
    sys.stderr.write("This checker needs the 'cryptography' package: pip install cryptography\n")
    sys.exit(1)

SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space start each signature line
MAX_SIGNATURES = 100  # as Go's sumdb/note; the C2SP spec asks verifiers to set a limit
MAX_TREE_SIZE = 2**64 - 1
REPORT_FORMAT = "overt-custody-report/2"
HEX_DIGITS = "0123456789abcdef"

# What the checks pass around (plain aliases: this file runs on Python 3.9).
JSONObject = dict[str, Any]  # a parsed JSON object from the report
VerifierKey = tuple[str, int, bytes]  # (signer name, key ID, Ed25519 public key)
Leaf = tuple[int, JSONObject]  # (leaf index, entry body)
Originals = dict[Any, JSONObject]  # keyed by the report's own (unchecked) sha256 values


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


def consistent(old: int, new: int, old_root: bytes, new_root: bytes, path: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: the tree (old, old_root) is a prefix of (new, new_root)."""
    if not 0 <= old <= new:
        return False
    if old == 0:  # the empty tree: only its own root, and nothing to prove
        empty = hashlib.sha256(b"").digest()
        return not path and old_root == empty and (new > 0 or new_root == empty)
    if old == new:
        return not path and hmac.compare_digest(old_root, new_root)
    if not path:
        return False
    if old & (old - 1) == 0:
        path = [old_root, *path]  # the old tree is a complete subtree: its root starts
    node, last = old - 1, new - 1
    while node % 2 == 1:
        node //= 2
        last //= 2
    old_value = new_value = path[0]
    for sibling in path[1:]:
        if last == 0:
            return False  # a hash the proof does not need
        if node % 2 == 1 or node == last:
            old_value = node_hash(sibling, old_value)
            new_value = node_hash(sibling, new_value)
            if node % 2 == 0:
                while node != 0 and node % 2 == 0:
                    node //= 2
                    last //= 2
        else:
            new_value = node_hash(new_value, sibling)
        node //= 2
        last //= 2
    return (
        last == 0
        and hmac.compare_digest(old_value, old_root)
        and hmac.compare_digest(new_value, new_root)
    )


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


def valid_key_name(name: str) -> bool:
    """C2SP signed-note: non-empty, no Unicode spaces, no '+', no control characters."""
    return name != "" and "+" not in name and not any(c.isspace() or c < " " for c in name)


def parse_verifier_key(text: str) -> tuple[str, int, bytes]:
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not valid_key_name(parts[0]):
        raise Failure("the verifier key is not in the form NAME+KEYID+KEY")
    name, hex_id, encoded = parts
    if len(hex_id) != 8 or any(c not in HEX_DIGITS for c in hex_id):
        raise Failure("the verifier key's ID is not 8 lowercase hexadecimal digits")
    wanted_id = int(hex_id, 16)
    raw = strict_b64(encoded)
    if len(raw) != 33 or raw[0] != 1:
        raise Failure("the verifier key is not an Ed25519 key")
    public_key = raw[1:]
    if key_id(name, public_key) != wanted_id:
        raise Failure("the verifier key's ID does not match the key")
    return name, wanted_id, public_key


def open_signed_note(note: str, name: str, wanted_id: int, public_key: bytes) -> str:
    """Return the note's text if the key signed it; raise Failure otherwise."""
    if any(c < " " and c != "\n" for c in note):
        raise Failure("the note holds a control character, which signed notes may not")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise Failure("the note is not valid UTF-8") from None
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise Failure("the checkpoint is not a signed note (no signature block)")
    text, block = note[: split + 1], note[split + 2 : -1]
    lines = block.split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise Failure(f"the note has more than {MAX_SIGNATURES} signatures")
    verifier = Ed25519PublicKey.from_public_bytes(public_key)
    good = False
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise Failure("the checkpoint has a malformed signature line")
        signer, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        raw = strict_b64(encoded)
        if not valid_key_name(signer) or len(raw) < 5:
            raise Failure("the checkpoint has a malformed signature line")
        if signer != name or int.from_bytes(raw[:4], "big") != wanted_id:
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
    if origin == "" or "" in lines[3:]:
        raise Failure("the checkpoint has an empty origin or an empty line")
    decimal = size_text.isascii() and size_text.isdigit()
    if not decimal or (size_text[0] == "0" and size_text != "0"):
        raise Failure(f"the checkpoint's tree size {size_text!r} is not a number")
    if int(size_text) > MAX_TREE_SIZE:
        raise Failure(f"the checkpoint's tree size {size_text} is 2^64 or more")
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


def check_key(report: JSONObject, trusted_key: str | None, out: Checker) -> VerifierKey | None:
    try:
        name, wanted_id, public_key = parse_verifier_key(str(report.get("verifier_key", "")))
    except Failure as exc:
        out.fail(f"verifier key: {exc}")
        return None
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
    return name, wanted_id, public_key


def check_entries(
    report: JSONObject, size: int, root: bytes, originals: Originals, out: Checker
) -> dict[Any, list[Leaf]]:
    """Inclusion of every entry; returns {object sha256: [(leaf index, entry), ...]}."""
    by_object: dict[Any, list[Leaf]] = {}
    entries = report.get("entries", [])
    bad_before = out.failures
    for item in entries if isinstance(entries, list) else []:
        index = item.get("leaf_index") if isinstance(item, dict) else None
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
        reached = inclusion_root(actual, index, size, path) if isinstance(index, int) else None
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
        by_object.setdefault(sha, []).append((index, body))
    if out.failures == bad_before:
        out.ok(f"all {len(entries)} custody entries are intact and included in the signed log")
    for items in by_object.values():
        items.sort(key=lambda pair: pair[0])
    return by_object


def chain_gap(items: list[Leaf], size: int, objects: list[object]) -> str:
    """Why an original's entries are not all of its entries up to `size`; "" if they are."""
    if not items:
        return "the report holds no entries about it"
    previous = None
    in_chain = False
    for position, (index, body) in enumerate(items):
        version = body.get("v")
        if version == 1 and not in_chain:
            previous = index  # written before entries were chained; counted by the next
            continue
        chain = body.get("chain") if version == 2 else None
        if not isinstance(chain, dict):
            return f"entry {index} is not in a format that links it to the one before"
        in_chain = True
        number, before = chain.get("n"), chain.get("prev")
        if number != position:
            return (
                f"entry {index} is its entry number {number}, but the report holds only "
                f"{position} entries about it before that one: entries are missing"
            )
        if before != previous:
            return (
                f"entry {index} follows its entry {before}, but the report's entry before it "
                f"is {previous}: entries are missing"
            )
        previous = index
    last_index, last = items[-1]
    seal = last.get("seal")
    if not isinstance(seal, dict) or seal.get("tree_size") != size:
        return (
            f"its last entry in the report (entry {last_index}) is not the entry that sealed "
            f"this report at {size} entries: entries after it are missing"
        )
    if sorted(map(str, seal.get("objects") or [])) != sorted(map(str, objects)):
        return "the seal names other originals than the report holds: originals were removed"
    return ""


def check_complete(
    report: JSONObject,
    size: int,
    originals: Originals,
    by_object: dict[Any, list[Leaf]],
    out: Checker,
) -> None:
    claim = report.get("complete_for")
    if report.get("format") != REPORT_FORMAT or not isinstance(claim, dict):
        out.fail(
            f"the report (format {report.get('format')!r}) does not say what it is complete "
            "for, so omitted entries could not be detected: ask the force for a new report"
        )
        return
    objects = claim.get("objects")
    if claim.get("tree_size") != size or not isinstance(objects, list):
        out.fail("the report's claim of completeness is not for its signed checkpoint")
        return
    if sorted(map(str, objects)) != sorted(map(str, originals)):
        out.fail("the report claims completeness for other objects than its originals")
        return
    if not originals:
        out.fail("the report names no originals, so it shows nothing complete")
        return
    stated_counts = claim.get("entries")
    counts: JSONObject = stated_counts if isinstance(stated_counts, dict) else {}
    for sha in sorted(originals):
        original = originals[sha]
        label = f"original {original.get('id')} ({original.get('filename')})"
        items = by_object.get(sha, [])
        gap = chain_gap(items, size, objects)
        if gap:
            out.fail(f"{label}: {gap}")
        elif counts.get(sha) != len(items):
            said = counts.get(sha)
            out.fail(f"{label}: the report says it has {said} entries but holds {len(items)}")
        else:
            out.ok(
                f"{label}: the report holds all {len(items)} entries about it in the log of "
                f"{size} entries (none missing, the last sealing this report)"
            )


def check_previous(
    path: str, proof_path: str | None, report: JSONObject, key: VerifierKey, size: int,
    root: bytes,
    out: Checker,
) -> None:
    where = f"previous checkpoint {path}"
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            text = open_signed_note(fh.read(), *key)
        origin, old_size, old_root = parse_checkpoint(text)
    except (OSError, UnicodeDecodeError) as exc:
        out.fail(f"{where}: cannot be read ({exc})")
        return
    except Failure as exc:
        out.fail(f"{where}: {exc}")
        return
    if origin != key[0]:
        out.fail(f"{where}: it is for log {origin!r}, not {key[0]!r}")
        return
    (a, a_root), (b, b_root) = sorted([(old_size, old_root), (size, root)])
    proofs = [p for p in report.get("consistency") or [] if isinstance(p, dict)]
    if proof_path is not None:
        try:
            with open(proof_path, encoding="utf-8") as fh:
                proofs.append(json.load(fh))
        except (OSError, ValueError) as exc:
            out.fail(f"consistency proof {proof_path}: cannot be read ({exc})")
            return
    if a == b:
        hashes: list[bytes] = []
    else:
        found = [p for p in proofs if p.get("old_size") == a and p.get("new_size") == b]
        if not found:
            out.fail(
                f"{where}: no proof that the log at {a} entries is a prefix of the log at {b}; "
                f"get one with `overt custody consistency {a} {b} --json` and pass it with "
                "--consistency"
            )
            return
        try:
            hashes = [hex_bytes(h, "a consistency proof hash") for h in found[0]["hashes"]]
        except (KeyError, TypeError, Failure) as exc:
            out.fail(f"{where}: the consistency proof cannot be read ({exc})")
            return
    if consistent(a, b, a_root, b_root, hashes):
        out.ok(f"{where} (log at {old_size} entries, signed by the same key) is consistent "
               f"with the report's: the log at {a} entries is a prefix of the log at {b}")
    else:
        out.fail(f"{where} is NOT consistent with the report's checkpoint: the log at {a} "
                 f"entries is not a prefix of the log at {b} (history was rewritten or forked)")


def check_report(
    report: JSONObject,
    exhibits: list[str],
    trusted_key: str | None,
    out: Checker,
    previous: str | None = None,
    consistency_proof: str | None = None,
) -> None:
    # 1. The key.
    key = check_key(report, trusted_key, out)
    if key is None:
        return
    name = key[0]

    # 2. The checkpoint.
    checkpoint = report.get("checkpoint") or {}
    try:
        text = open_signed_note(str(checkpoint.get("note", "")), *key)
        origin, size, root = parse_checkpoint(text)
    except Failure as exc:
        out.fail(f"checkpoint: {exc}")
        return
    out.ok(f"the checkpoint is validly signed: log {origin!r} at {size} entries")
    if origin != name:
        out.fail(f"the checkpoint's origin {origin!r} is not the key's name {name!r}")
    if checkpoint.get("size") != size or checkpoint.get("root") != root.hex():
        out.fail("the report's summary of the checkpoint differs from the signed checkpoint")

    # 3. Inclusion of each entry, then 4. completeness.
    originals: Originals = {
        o.get("sha256"): o for o in report.get("originals", []) if isinstance(o, dict)
    }
    by_object = check_entries(report, size, root, originals, out)
    check_complete(report, size, originals, by_object, out)

    # 5. Each original was received, as recorded.
    for sha, original in originals.items():
        label = f"original {original.get('id')} ({original.get('filename')})"
        ingests = [b for _, b in by_object.get(sha, []) if b.get("action") == "ingest"]
        if not ingests:
            out.fail(f"{label}: the report has no ingest entry for it")
            continue
        body = ingests[0]
        size_recorded = (body.get("details") or {}).get("size")
        if size_recorded is not None and size_recorded != original.get("size"):
            out.fail(f"{label}: the size recorded at ingest differs from the report's")
            continue
        out.ok(f"{label}: received at {body.get('time')}, SHA-256 {sha}")

    # 6. A checkpoint held from before.
    if previous is not None:
        check_previous(previous, consistency_proof, report, key, size, root, out)

    # 7. The exhibits.
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


def _check_capture(report_path: str, out: Checker) -> None:
    """An exhibit package's capture signatures (capture/capture.json beside custody/), by
    overt_verify_capture.py when it is beside this file; nothing when either is absent.
    (Imported here, by name: this file itself needs nothing beyond the standard library.)"""
    import importlib
    from os import path

    here = path.dirname(path.abspath(__file__))
    package = path.dirname(path.dirname(path.abspath(report_path)))
    capture = path.join(package, "capture", "capture.json")
    if path.exists(capture) and path.exists(path.join(here, "overt_verify_capture.py")):
        sys.path.insert(0, here)
        checker = importlib.import_module("overt_verify_capture")
        checker.check_capture(capture, path.join(package, "originals"), out.ok, out.fail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check an overt chain-of-custody report offline.")
    parser.add_argument("report", help="the report.json file")
    parser.add_argument("--exhibit", action="append", default=[], help="an exhibit file to check")
    parser.add_argument("--key", help="the verifier key you obtained independently")
    parser.add_argument("--previous", help="a signed checkpoint you hold from before")
    parser.add_argument(
        "--consistency", help="a consistency proof (JSON) between --previous and the report"
    )
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
    if report is not None and str(report.get("format", "")).startswith("overt-transparency-report"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import overt_verify_report  # beside this file; checks a public transparency report

        again = [args.report] + (["--key", args.key] if args.key else [])
        return int(overt_verify_report.main(again))
    if report is not None:
        check_report(report, args.exhibit, args.key, out, args.previous, args.consistency)
        _check_capture(args.report, out)
    print()
    if out.failures == 0:
        print(
            "VERDICT: PASS. Every check succeeded: the report holds every custody entry about its "
            "originals in the log signed by the key shown, as far as its checkpoint, unaltered"
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
