"""The monthly public transparency report: aggregates only, small counts suppressed, no
names; its figures hashed into the custody log and published with a signed checkpoint
and an inclusion proof, so anyone can check offline that the figures are the ones the
force recorded (overt_verify_report.py, copied beside the report).

What is hashed: the report's `figures` object as JSON with sorted keys and no spaces
(for these values, integers, nulls, strings and rates of four decimals, that is the
RFC 8785 form). The custody entry (`transparency-report`) names that SHA-256 as its
object and, in its details, the SHA-256 of the exact bytes of report.csv, report.html
and report.pdf (or why no PDF could be made). So the HTML is rendered from what is known
before the entry is logged (the month, the figures and their SHA-256), never from the
entry, proof or checkpoint, and the PDF from that HTML; both are made and hashed first.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string

from overt import errors
from overt.conf import get_settings
from overt.custody.checkpoints import issue_checkpoint
from overt.custody.keys import verifier_key_text
from overt.custody.proofs import inclusion_json
from overt.custody.report import VERIFIER_SOURCE, render_pdf
from overt.custody.services import Actor, Subject, record

from . import compliance
from .models import Complaint, PublishedReport
from .rates import summarise, suppress, suppress_table

# /2: the entry's details also carry html_sha256 and pdf_sha256 (or pdf_not_made)
REPORT_FORMAT = "overt-transparency-report/2"
# What a published entry says when no PDF could be made: fixed words, since the renderer's
# own error (library names, paths on the server) would be public and signed for good.
PDF_NOT_MADE = "the PDF renderer is not usable on the publishing server"
LOG = logging.getLogger(__name__)
VERIFIER = VERIFIER_SOURCE.with_name("overt_verify_report.py")
STATUS_COUNTS = ("recorded", "late", "early_stop", "gaps", "no_footage")  # add up to attendances
COUNTS = ("attendances", *STATUS_COUNTS, "muted_audio")
COMPLAINT_COUNTS = ("complaints", "with_footage", "closed")
CSV_FIELDS = ("borough", *COUNTS, "compliance_rate", "footage_rate", "median_late_delay_s")


@dataclass
class ReportFiles:
    folder: Path
    sha256: str
    leaf_index: int
    paths: list[Path] = field(default_factory=list)
    pdf_problem: str = ""


def canonical(figures: dict[str, Any]) -> bytes:
    return json.dumps(figures, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _complaints(month: str, threshold: int) -> list[dict[str, Any]]:
    first, last = compliance.month_bounds(month)
    rows = Complaint.objects.filter(received_on__gte=first, received_on__lte=last).prefetch_related(
        "links"
    )
    by: dict[str, list[Complaint]] = {}
    for c in rows:
        by.setdefault(c.borough or "(not given)", []).append(c)
    out = []
    for borough in sorted(by):
        group = by[borough]
        closed = [c for c in group if c.closed_on is not None]
        counts = {
            "borough": borough,
            "complaints": len(group),
            "with_footage": sum(1 for c in group if c.links.all()),
            "closed": len(closed),
        }
        out.append(suppress(counts, threshold, COMPLAINT_COUNTS))
    return out


def figures(month: str) -> dict[str, Any]:
    """The month's aggregates by borough and for the force (compliance runs first)."""
    first, last = compliance.month_bounds(month)
    threshold = get_settings().oversight_report_min_count
    judged = compliance.run(first, last).judged
    boroughs = sorted({j.borough for j in judged})
    # Suppressed as one table: the boroughs add up to the force, so a count hidden in one
    # borough alone could be had as the force's minus the others' (rates.suppress_table).
    rows, force = suppress_table(
        [{"borough": b, **summarise(j for j in judged if j.borough == b)} for b in boroughs],
        summarise(judged),
        threshold,
        whole="attendances",
        parts=STATUS_COUNTS,
        others=("muted_audio",),
    )
    return {
        "month": month,
        "suppression_threshold": threshold,
        "by_borough": rows,
        "force": force,
        "complaints_by_borough": _complaints(month, threshold),
    }


def csv_text(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in [*data["by_borough"], {"borough": "(force)", **data["force"]}]:
        writer.writerow(
            [
                "<" + str(data["suppression_threshold"])
                if row.get(k, "") is None
                else row.get(k, "")
                for k in CSV_FIELDS
            ]
        )
    return buffer.getvalue()


def publish(month: str, out: Path, *, actor: Actor) -> ReportFiles:
    """Compute, log, sign and write the month's report into `out`."""
    compliance.month_bounds(month)  # a bad month is refused before anything is written
    if out.exists() and any(out.iterdir()):
        raise errors.Conflict(f"{out} is not empty: a report is never written over another")
    data = figures(month)
    digest = hashlib.sha256(canonical(data)).hexdigest()
    table = csv_text(data)
    html, pdf, pdf_problem = render(month, data, digest)
    logged: dict[str, str] = {
        "month": month,
        "format": REPORT_FORMAT,
        "figures_sha256": digest,
        "csv_sha256": _sha256(table.encode()),
        "html_sha256": _sha256(html.encode()),
    }
    if pdf is not None:
        logged["pdf_sha256"] = _sha256(pdf)
    else:
        logged["pdf_not_made"] = PDF_NOT_MADE
    with transaction.atomic():
        entry = record(
            "transparency-report", actor, Subject(digest, {"report": month}), details=logged
        )
        checkpoint = issue_checkpoint()  # with the head still locked: nothing comes between
        if checkpoint.size != entry.index + 1:
            raise errors.Conflict("the log grew while the report was signed; try again")
        PublishedReport.objects.create(
            month=month,
            sha256=digest,
            leaf_index=entry.index,
            tree_size=checkpoint.size,
            published_by=str(actor),
            published_at=datetime.now(UTC),
        )
    proof = inclusion_json(entry.index, checkpoint.size, with_checkpoint=False)
    report = {
        "format": REPORT_FORMAT,
        "month": month,
        "generated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "figures": data,
        **{k: v for k, v in logged.items() if k not in ("month", "format")},
        "custody": {"entry": entry.entry, "leaf_index": entry.index, "leaf_hash": entry.leaf_hash},
        "proof": proof,
        "checkpoint": {"size": checkpoint.size, "root": checkpoint.root, "note": checkpoint.note},
        "verifier_key": verifier_key_text(),
        "how_to_verify": "python3 overt_verify_report.py report.json",
    }
    files = _write(out, report, {"report.csv": table.encode(), "report.html": html.encode()}, pdf)
    files.pdf_problem = pdf_problem
    return files


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def render(month: str, data: dict[str, Any], digest: str) -> tuple[str, bytes | None, str]:
    """The HTML and the PDF made from it (or None and why not), from nothing that exists
    only once the entry is logged, so that both can be hashed into it."""
    import tempfile

    html = render_to_string(
        "oversight/transparency.html", {"month": month, "figures": data, "figures_sha256": digest}
    )
    with tempfile.TemporaryDirectory(prefix="overt-transparency-pdf-") as tmp:
        path = Path(tmp) / "report.pdf"
        problem = render_pdf(html, path)
        pdf = None if problem else path.read_bytes()
    if problem:  # the details (library names, paths) go to the server's log, not the entry
        LOG.warning("transparency report %s: no PDF made: %s", month, problem)
    return html, pdf, problem


def _write(
    out: Path, report: dict[str, Any], hashed: dict[str, bytes], pdf: bytes | None
) -> ReportFiles:
    """Write the files; report.csv, report.html and report.pdf as the very bytes logged."""
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out, report["figures_sha256"], report["custody"]["leaf_index"])
    texts = {
        "report.json": json.dumps(report, indent=2, ensure_ascii=False) + "\n",
        "checkpoint": report["checkpoint"]["note"],
        "inclusion-proof.json": json.dumps(report["proof"], indent=2) + "\n",
        "verifier-key": report["verifier_key"] + "\n",
    }
    contents = {name: text.encode() for name, text in texts.items()} | hashed
    if pdf is not None:
        contents["report.pdf"] = pdf
    for name, body in contents.items():
        (out / name).write_bytes(body)
        files.paths.append(out / name)
    for source in (VERIFIER_SOURCE, VERIFIER):
        shutil.copyfile(source, out / source.name)
        files.paths.append(out / source.name)
    return files


def report_zip(month: str, *, actor: Actor) -> bytes:
    """Publish the month's report and return its folder as a zip (for the page and API)."""
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory(prefix="overt-transparency-") as tmp:
        files = publish(month, Path(tmp) / "report", actor=actor)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files.paths:
                archive.write(path, f"transparency-report-{month}/{path.name}")
        return buffer.getvalue()
