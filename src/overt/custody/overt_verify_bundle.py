#!/usr/bin/env python3
"""Check an overt disclosure bundle, or a share receipt, offline.

    python3 overt_verify_bundle.py BUNDLE_FOLDER [--key verifier-key.txt]
    python3 overt_verify_bundle.py --receipt receipt.json [--key verifier-key.txt]

A bundle passes when:
1. every file named in manifest.json is there, with that SHA-256 and size, and no file
   is there that the manifest does not name (README.txt and manifest.json aside);
2. each custody report passes overt_verify.py's own checks (signed checkpoint, inclusion
   of every entry, completeness), and names every original in the bundle;
3. each clip, still and redacted copy is traced back to its original: the original is in
   the bundle (by hash), and a verified custody entry about that original records making
   a derivative with exactly this file's SHA-256.

A receipt passes when its checkpoint is signed by the key, and every custody entry it
cites is intact and included in the log at that checkpoint.

Needs Python 3.9+ and the 'cryptography' package; overt_verify.py must sit beside it.
Exit status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import overt_verify as base  # type: ignore[import-not-found]  # beside this file

BUNDLE_FORMAT = "overt-disclosure-bundle/1"
RECEIPT_FORMAT = "overt-share-receipt/1"
DERIVED = {"clip", "still", "redacted", "transcript"}
UNLISTED_OK = {"README.txt", "manifest.json"}


def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _files_on_disk(folder: str) -> set[str]:
    found = set()
    for root, _dirs, names in os.walk(folder):
        for name in names:
            found.add(os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/"))
    return found


def check_files(folder: str, manifest: dict[str, Any], out: base.Checker) -> None:
    listed = manifest.get("files") or []
    bad = out.failures
    for item in listed:
        path = str(item.get("path", ""))
        full = os.path.join(folder, *path.split("/"))
        if ".." in path.split("/") or not os.path.isfile(full):
            out.fail(f"{path}: named in the manifest but missing")
            continue
        digest, size = base.file_sha256(full)
        if digest != item.get("sha256") or size != item.get("size"):
            out.fail(f"{path}: its SHA-256 or size differs from the manifest (altered)")
    if out.failures == bad:
        out.ok(f"all {len(listed)} files match the manifest's SHA-256 and size")
    extra = _files_on_disk(folder) - {str(i.get("path")) for i in listed} - UNLISTED_OK
    for path in sorted(extra):
        out.fail(f"{path}: in the bundle but not in the manifest")


def check_reports(
    folder: str, manifest: dict[str, Any], key: str | None, out: base.Checker
) -> dict[str, list[dict[str, Any]]]:
    """Run the custody checks on each report; return {original sha256: verified entries}."""
    entries: dict[str, list[dict[str, Any]]] = {}
    for item in manifest.get("files") or []:
        if item.get("kind") != "custody-report" or not str(item.get("path")).endswith(".json"):
            continue
        path = os.path.join(folder, *str(item["path"]).split("/"))
        print(f"--- {item['path']}")
        before = out.failures
        try:
            report = _load(path)
        except (OSError, ValueError) as exc:
            out.fail(f"{item['path']}: cannot be read ({exc})")
            continue
        base.check_report(report, [], key, out)
        if out.failures != before:
            continue  # nothing in a failed report is relied on below
        for row in report.get("entries", []):
            body = json.loads(row["entry"])
            sha = str((body.get("object") or {}).get("sha256"))
            entries.setdefault(sha, []).append(body)
    print("---")
    return entries


def check_provenance(
    manifest: dict[str, Any], verified: dict[str, list[dict[str, Any]]], out: base.Checker
) -> None:
    files = manifest.get("files") or []
    originals = {f.get("sha256") for f in files if f.get("kind") == "original"}
    for f in files:
        if f.get("kind") == "original":
            if f.get("sha256") in verified:
                out.ok(f"{f['path']}: an original in a verified custody report")
            else:
                out.fail(f"{f['path']}: no verified custody report covers this original")
        if f.get("kind") not in DERIVED:
            continue
        source = f.get("derived_from")
        if source not in originals:
            out.fail(f"{f['path']}: the original it was made from is not in the bundle")
            continue
        made = [
            e
            for e in verified.get(source, [])
            if e.get("action") in ("derivative-create", "redaction")
            and (e.get("details") or {}).get("sha256") == f.get("sha256")
        ]
        if made:
            out.ok(
                f"{f['path']}: made from original {str(source)[:12]}... "
                f"(custody entry {made[0].get('seq')}, {made[0].get('time')})"
            )
        else:
            out.fail(f"{f['path']}: no verified custody entry records making it from its original")


def check_bundle(folder: str, key: str | None, out: base.Checker) -> None:
    try:
        manifest = _load(os.path.join(folder, "manifest.json"))
    except (OSError, ValueError) as exc:
        out.fail(f"manifest.json cannot be read: {exc}")
        return
    if manifest.get("format") != BUNDLE_FORMAT:
        out.fail(f"manifest.json is not an {BUNDLE_FORMAT} manifest")
        return
    case = manifest.get("case") or {}
    out.note(
        f"case {case.get('reference')}: exported {manifest.get('exported_at')} "
        f"by {manifest.get('exported_by')}"
    )
    check_files(folder, manifest, out)
    verified = check_reports(folder, manifest, key, out)
    check_provenance(manifest, verified, out)


def check_receipt(path: str, key: str | None, out: base.Checker) -> None:
    try:
        receipt = _load(path)
    except (OSError, ValueError) as exc:
        out.fail(f"the receipt cannot be read: {exc}")
        return
    if receipt.get("format") != RECEIPT_FORMAT:
        out.fail(f"not an {RECEIPT_FORMAT} receipt")
        return
    signer = base.check_key(receipt, key, out)
    if signer is None:
        return
    checkpoint = receipt.get("checkpoint") or {}
    try:
        text = base.open_signed_note(str(checkpoint.get("note", "")), *signer)
        _origin, size, root = base.parse_checkpoint(text)
    except base.Failure as exc:
        out.fail(f"checkpoint: {exc}")
        return
    out.ok(f"the receipt's checkpoint is validly signed: {size} entries")
    cited = {e.get("custody_index") for e in receipt.get("events", [])} - {None}
    present = set()
    for row in receipt.get("entries", []):
        index = row.get("leaf_index")
        data = str(row.get("entry", "")).encode("utf-8")
        leaf = base.leaf_hash(data)
        path_hashes = [bytes.fromhex(h) for h in (row.get("proof") or {}).get("hashes", [])]
        reached = (
            base.inclusion_root(leaf, index, size, path_hashes) if isinstance(index, int) else None
        )
        if leaf.hex() != row.get("leaf_hash") or reached != root:
            out.fail(f"custody entry {index}: altered, or not in the signed log")
            continue
        present.add(index)
    if cited - present:
        out.fail(
            f"events cite custody entries the receipt does not prove: {sorted(cited - present)}"
        )
    else:
        out.ok(f"all {len(present)} custody entries the receipt cites are in the signed log")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check an overt disclosure bundle offline.")
    parser.add_argument("folder", nargs="?", default=".", help="the unpacked bundle folder")
    parser.add_argument("--receipt", help="check a share receipt (JSON) instead")
    parser.add_argument("--key", help="a file holding the verifier key you obtained yourself")
    args = parser.parse_args(argv)
    key = None
    if args.key:
        with open(args.key, encoding="utf-8") as fh:
            key = fh.read().strip()
    out = base.Checker()
    if args.receipt:
        check_receipt(args.receipt, key, out)
    else:
        check_bundle(args.folder, key, out)
    print()
    if out.failures == 0:
        print("VERDICT: PASS. Every check succeeded.")
        return 0
    print(f"VERDICT: FAIL. {out.failures} check(s) failed (marked FAIL above).")
    return 1


if __name__ == "__main__":
    sys.exit(main())
