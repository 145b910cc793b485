#!/usr/bin/env python3
"""overt_verify_report.py: check an overt public transparency report, offline.

Usage:
    python3 overt_verify_report.py report.json [--key VERIFIER_KEY] [--csv report.csv]

Needs Python 3.9 or later, the `cryptography` package and overt_verify.py beside it (the
custody report checker, whose signature and proof checks it reuses); nothing of overt.

What it checks:
 1. The verifier key is well formed and, with --key (the key the force publishes, or a
    witness's copy), that it is the report's key.
 2. The checkpoint is a signed note with a valid Ed25519 signature by that key.
 3. The custody entry's leaf hash is SHA-256(0x00 || entry) and its inclusion proof leads
    to the signed root (RFC 9162), at the entry's own sequence number.
 4. The entry is a `transparency-report` entry whose object is the SHA-256 of the report's
    figures (JSON, sorted keys, no spaces), recomputed here from the figures in the file:
    change one figure and this fails.
 5. report.csv (beside the report, or --csv) has the SHA-256 the entry records.

Exit status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
from typing import Any

try:  # imported inside overt (overt.custody.overt_verify_report)
    from .overt_verify import (
        Checker,
        Failure,
        hex_bytes,
        inclusion_root,
        leaf_hash,
        open_signed_note,
        parse_checkpoint,
        parse_verifier_key,
    )
except ImportError:  # run as a script, beside overt_verify.py
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from overt_verify import (  # type: ignore[no-redef,import-not-found]
        Checker,
        Failure,
        hex_bytes,
        inclusion_root,
        leaf_hash,
        open_signed_note,
        parse_checkpoint,
        parse_verifier_key,
    )

REPORT_FORMAT = "overt-transparency-report/1"


def figures_sha256(figures: Any) -> str:
    text = json.dumps(figures, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check(
    report: dict[str, Any], trusted_key: str | None, csv_path: str | None, out: Checker
) -> None:
    if report.get("format") != REPORT_FORMAT:
        out.fail(f"not a transparency report (format {report.get('format')!r})")
        return
    try:
        name, key_id, public_key = parse_verifier_key(str(report.get("verifier_key", "")))
    except Failure as exc:
        out.fail(f"verifier key: {exc}")
        return
    out.ok(f"the verifier key is well formed (signer {name}, key ID {key_id:08x})")
    if trusted_key is not None:
        try:
            same = parse_verifier_key(trusted_key) == (name, key_id, public_key)
        except Failure as exc:
            out.fail(f"the key given with --key: {exc}")
            same = None
        if same is True:
            out.ok("the report's verifier key is the key you supplied with --key")
        elif same is False:
            out.fail("the report's verifier key is NOT the key you supplied with --key")
    else:
        out.note(
            "the key was taken from the report itself: pass the force's published key with --key"
        )

    checkpoint = report.get("checkpoint") or {}
    try:
        text = open_signed_note(str(checkpoint.get("note", "")), name, key_id, public_key)
        origin, size, root = parse_checkpoint(text)
    except Failure as exc:
        out.fail(f"checkpoint: {exc}")
        return
    out.ok(f"the checkpoint is validly signed: log {origin!r} at {size} entries")

    custody = report.get("custody") or {}
    proof = report.get("proof") or {}
    entry_text = custody.get("entry")
    if not isinstance(entry_text, str):
        out.fail("the report carries no custody entry")
        return
    leaf = leaf_hash(entry_text.encode("utf-8"))
    try:
        stated = hex_bytes(custody.get("leaf_hash"), "the entry's leaf hash")
        path = [hex_bytes(h, "a proof hash") for h in proof.get("hashes", [])]
    except Failure as exc:
        out.fail(str(exc))
        return
    body = json.loads(entry_text)
    index = custody.get("leaf_index")
    if not hmac.compare_digest(leaf, stated):
        out.fail("the custody entry's leaf hash is not SHA-256(0x00 || entry)")
    elif not isinstance(index, int) or body.get("seq") != index or proof.get("leaf_index") != index:
        out.fail("the entry's sequence number is not its leaf index")
    elif proof.get("tree_size") != size or inclusion_root(leaf, index, size, path) != root:
        out.fail("the inclusion proof does NOT lead to the signed root")
    else:
        out.ok(f"custody entry {index} is in the signed log (inclusion proof checked)")

    details = body.get("details") or {}
    recomputed = figures_sha256(report.get("figures"))
    if body.get("action") != "transparency-report":
        out.fail(f"the entry is a {body.get('action')!r} entry, not a transparency report")
    elif (body.get("object") or {}).get("sha256") != recomputed or details.get(
        "figures_sha256"
    ) != recomputed:
        out.fail(
            f"the figures in this file hash to {recomputed}, which is NOT the SHA-256 the force "
            "logged: the figures were changed after publication"
        )
    else:
        out.ok(
            f"the figures are the ones logged (SHA-256 {recomputed}), month {details.get('month')}"
        )

    csv_path = csv_path or os.path.join(
        os.path.dirname(os.path.abspath(report["_path"])), "report.csv"
    )
    try:
        with open(csv_path, "rb") as fh:
            csv_sha = hashlib.sha256(fh.read()).hexdigest()
    except OSError as exc:
        out.note(f"no CSV checked ({csv_path}: {exc.strerror})")
        return
    if csv_sha == details.get("csv_sha256"):
        out.ok(f"{os.path.basename(csv_path)} is the CSV logged (SHA-256 {csv_sha})")
    else:
        out.fail(f"{os.path.basename(csv_path)} is NOT the CSV the force logged")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check an overt transparency report offline.")
    parser.add_argument("report", help="the report.json file")
    parser.add_argument("--key", help="the verifier key you obtained independently")
    parser.add_argument("--csv", help="the report's CSV (default: report.csv beside it)")
    args = parser.parse_args(argv)
    out = Checker()
    try:
        with open(args.report, encoding="utf-8") as fh:
            report = json.load(fh)
        if not isinstance(report, dict):
            raise ValueError("not a JSON object")
        report["_path"] = args.report
    except (OSError, ValueError) as exc:
        out.fail(f"cannot read the report {args.report}: {exc}")
        report = None
    if report is not None:
        check(report, args.key, args.csv, out)
    print()
    if out.failures == 0:
        print("VERDICT: PASS. The figures are the ones the force logged and signed.")
        return 0
    print(f"VERDICT: FAIL. {out.failures} check(s) failed (marked FAIL above).")
    return 1


if __name__ == "__main__":
    sys.exit(main())
