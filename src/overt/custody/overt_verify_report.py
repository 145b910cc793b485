#!/usr/bin/env python3
"""overt_verify_report.py: check an overt public transparency report, offline.

Usage:
    python3 overt_verify_report.py report.json [--key VERIFIER_KEY]
        [--csv report.csv] [--html report.html] [--pdf report.pdf]

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
 5. report.csv, report.html and report.pdf (beside the report, or --csv, --html, --pdf)
    each have the SHA-256 the entry records for it: one changed byte fails, naming the
    file. A file that is not there is a WARN line, not a failure (you may hold only some
    of the files); a PDF present where the force logged none fails.
    A report of format /1 logged only its figures and CSV: those are checked as before,
    and a WARN line says that its HTML and PDF cannot be checked. The format is taken
    from the signed entry, so relabelling a /2 report as /1 fails.

Exit status 0 when every check passes (warnings included), 1 otherwise.
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

REPORT_FORMAT = "overt-transparency-report/2"
OLD_FORMAT = "overt-transparency-report/1"  # logged the figures and the CSV only
FORMATS = (REPORT_FORMAT, OLD_FORMAT)


def figures_sha256(figures: Any) -> str:
    text = json.dumps(figures, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ReportChecker(Checker):
    """Checker with a WARN line: something not checked, which is not a failure."""

    def __init__(self) -> None:
        super().__init__()
        self.warnings = 0

    def warn(self, message: str) -> None:
        self.warnings += 1
        print(f"WARN  {message}")


def check(
    report: dict[str, Any],
    trusted_key: str | None,
    paths: dict[str, str | None],
    out: ReportChecker,
) -> None:
    if report.get("format") not in FORMATS:
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
    if not isinstance(custody, dict) or not isinstance(proof, dict):
        out.fail("the report's custody entry or proof is not a JSON object")
        return
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
    try:
        body = json.loads(entry_text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        out.fail("the custody entry is not a JSON object")
        return
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

    if details.get("format") != report.get("format"):
        out.fail(
            f"report.json says format {report.get('format')!r} but the force logged "
            f"{details.get('format')!r}"
        )
        return
    folder = os.path.dirname(os.path.abspath(report["_path"]))
    names = ("csv", "html", "pdf") if details.get("format") == REPORT_FORMAT else ("csv",)
    if names == ("csv",):
        out.warn("a /1 report logged no HTML or PDF: report.html and report.pdf are NOT checked")
    for kind in names:
        check_file(kind, paths.get(kind) or os.path.join(folder, f"report.{kind}"), details, out)


def check_file(kind: str, path: str, details: dict[str, Any], out: ReportChecker) -> None:
    """One published file against the SHA-256 logged for it in the verified entry."""
    name = os.path.basename(path)
    logged = details.get(f"{kind}_sha256")
    try:
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
    except OSError as exc:
        if kind == "pdf" and logged is None:
            out.note(f"the force logged no PDF ({details.get('pdf_not_made', 'no reason given')})")
        else:
            out.warn(f"{name} NOT checked: not found ({path}: {exc.strerror})")
        return
    if not isinstance(logged, str):
        out.fail(f"{name} is here, but the force logged no {kind.upper()} for this report")
    elif hmac.compare_digest(digest, logged):
        out.ok(f"{name} is the {kind.upper()} logged (SHA-256 {digest})")
    else:
        out.fail(f"{name} is NOT the {kind.upper()} the force logged (SHA-256 {digest})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check an overt transparency report offline.")
    parser.add_argument("report", help="the report.json file")
    parser.add_argument("--key", help="the verifier key you obtained independently")
    parser.add_argument("--csv", help="the report's CSV (default: report.csv beside it)")
    parser.add_argument("--html", help="the report's HTML (default: report.html beside it)")
    parser.add_argument("--pdf", help="the report's PDF (default: report.pdf beside it)")
    args = parser.parse_args(argv)
    out = ReportChecker()
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
        check(report, args.key, {"csv": args.csv, "html": args.html, "pdf": args.pdf}, out)
    print()
    if out.failures == 0:
        warnings = out.warnings
        tail = (
            f" {warnings} warning(s) (WARN above): not everything was checked." if warnings else ""
        )
        print("VERDICT: PASS. The figures are the ones the force logged and signed." + tail)
        return 0
    print(f"VERDICT: FAIL. {out.failures} check(s) failed (marked FAIL above).")
    return 1


if __name__ == "__main__":
    sys.exit(main())
