"""The custody report for one recording: JSON, HTML and PDF, with the standalone verifier.

Making a report is itself an `export` of the recording's originals, so it is logged first,
as the entries that seal the report: in the same transaction, with the log head still
locked, the checkpoint at the size just after them is signed. So at that checkpoint the
seal is each original's last entry, and each entry of an original names the one before it
(its `chain`), which lets the verifier prove that the report holds every entry about those
originals up to the checkpoint, not just some. Every such entry goes into the report with
an inclusion proof against that checkpoint. With the
verifier key, anyone can check the report offline with ``overt_verify.py``, which is copied
beside it (docs/custody.md explains how).
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string

from overt.evidence.models import Original, Recording

from .checkpoints import issue_checkpoint
from .errors import CustodyError
from .keys import origin, verifier_key_text
from .models import Checkpoint, CustodyEntry
from .proofs import consistency_json, inclusion_json
from .services import Action, Actor, Client, Subject, record_many

log = logging.getLogger(__name__)

REPORT_FORMAT = "overt-custody-report/2"
VERIFIER_SOURCE = Path(__file__).with_name("overt_verify.py")
VERIFIER_NAME = "overt_verify.py"


class ReportError(CustodyError):
    pass


@dataclass(frozen=True)
class ReportFiles:
    folder: Path
    json: Path
    html: Path
    pdf: Path | None
    verifier: Path
    pdf_problem: str = ""

    def paths(self) -> list[Path]:
        return [p for p in (self.json, self.html, self.pdf, self.verifier) if p is not None]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _original_json(original: Original) -> dict[str, Any]:
    return {
        "id": original.pk,
        "sha256": original.sha256,
        "size": original.size,
        "filename": original.filename,
        "source": original.source,
        "container": original.container,
        "video_codec": original.video_codec,
        "audio_codec": original.audio_codec,
        "duration_s": original.duration_s,
        "width": original.width,
        "height": original.height,
        "started_at": _iso(original.started_at),
        "stopped_at": _iso(original.stopped_at),
        "ingested_at": _iso(original.ingested_at),
        "playable": original.playable,
        "problem": original.problem,
        "derivatives": [
            {
                "id": d.pk,
                "kind": d.kind,
                "sha256": d.sha256,
                "size": d.size,
                # what made it: for a transcript, the model's name and hash and the libraries
                "generator": d.generator,
                "generator_version": d.generator_version,
            }
            for d in original.derivatives.order_by("kind", "pk")
        ],
    }


def _recording_json(recording: Recording) -> dict[str, Any]:
    officer, device, incident = recording.officer, recording.device, recording.incident
    return {
        "id": recording.pk,
        "title": recording.title,
        "incident": incident.reference if incident else None,
        "trigger_on_at": _iso(recording.trigger_on_at),
        "trigger_off_at": _iso(recording.trigger_off_at),
        "officer": {"number": officer.number, "name": officer.name, "team": officer.team},
        "camera": {"serial": device.serial, "model": device.model, "firmware": device.firmware},
    }


@dataclass(frozen=True)
class BuiltReport:
    data: dict[str, Any]  # the report's JSON content
    export_indices: list[int]  # leaf indices of the `export` entries that made it


def build_report_data(
    recording_id: int,
    *,
    actor: Actor,
    justification: str = "",
    client: Client | None = None,
) -> dict[str, Any]:
    """Log the export, sign a checkpoint, and return the report's JSON content."""
    return build_report(recording_id, actor=actor, justification=justification, client=client).data


def build_report(
    recording_id: int,
    *,
    actor: Actor,
    justification: str = "",
    client: Client | None = None,
    what: str = "custody report",
) -> BuiltReport:
    """Log the export (one entry per original), sign a checkpoint, build the report.

    `what` names the export in its custody entries: the report alone, or the package of
    originals it travels in (overt.disclosure)."""
    recording = (
        Recording.objects.select_related("officer", "device", "incident")
        .filter(pk=recording_id)
        .first()
    )
    if recording is None:
        raise ReportError(f"no recording {recording_id}")
    originals = list(recording.originals.order_by("started_at", "pk"))
    if not originals:
        raise ReportError(f"recording {recording_id} has no originals to report on")
    with transaction.atomic():
        logged = record_many(
            (
                Action(
                    "export",
                    actor,
                    Subject(o.sha256, {"original": o.pk, "recording": recording.pk}),
                    justification=justification,
                    client=client,
                    details={"what": what, "format": REPORT_FORMAT},
                )
                for o in originals
            ),
            seal=True,
        )
        # Signed before the head lock is released: nothing else can come between.
        checkpoint: Checkpoint = issue_checkpoint()
        if checkpoint.size != logged[-1].index + 1:
            raise ReportError("the log grew while the report was sealed; try again")
    shas = sorted({o.sha256 for o in originals})
    entries = CustodyEntry.objects.filter(object_sha256__in=shas, index__lt=checkpoint.size)
    report_entries = []
    earlier_seals: set[int] = set()
    counts = dict.fromkeys(shas, 0)
    for entry in entries.order_by("index"):
        counts[entry.object_sha256] += 1
        sealed = json.loads(entry.entry).get("seal")
        if isinstance(sealed, dict) and isinstance(sealed.get("tree_size"), int):
            earlier_seals.add(sealed["tree_size"])
        proof = inclusion_json(entry.index, checkpoint.size, with_checkpoint=False)
        report_entries.append(
            {
                "leaf_index": entry.index,
                "leaf_hash": entry.leaf_hash,
                "entry": entry.entry,
                "proof": proof,
            }
        )
    data = {
        "format": REPORT_FORMAT,
        "generated_at": _iso(datetime.now(UTC)),
        "origin": origin(),
        "recording": _recording_json(recording),
        "originals": [_original_json(o) for o in originals],
        "entries": report_entries,
        "checkpoint": {"size": checkpoint.size, "root": checkpoint.root, "note": checkpoint.note},
        # What the report claims: every entry about these objects below this tree size.
        "complete_for": {"tree_size": checkpoint.size, "objects": shas, "entries": counts},
        # Proofs that the checkpoints of this recording's earlier reports are prefixes of
        # this one, for `overt_verify.py --previous`.
        "consistency": [
            consistency_json(size, checkpoint.size)
            for size in sorted(earlier_seals - {checkpoint.size})
        ],
        "verifier_key": verifier_key_text(),
        "how_to_verify": f"python3 {VERIFIER_NAME} report.json --exhibit <the exhibit file>",
    }
    return BuiltReport(data, [entry.index for entry in logged])


def _html_context(data: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for item in data["entries"]:
        body = json.loads(item["entry"])
        actor = body.get("actor", {})
        client = body.get("client", {})
        rows.append(
            {
                "index": item["leaf_index"],
                "time": body.get("time", ""),
                "action": body.get("action", ""),
                "actor": f"{actor.get('kind', '')}: {actor.get('id', '')}",
                "justification": body.get("justification", ""),
                "client": " ".join(
                    x for x in (client.get("address"), client.get("user_agent")) if x
                ),
                "object": body.get("object", {}).get("sha256", ""),
                "leaf_hash": item["leaf_hash"],
                "entry": item["entry"],
            }
        )
    return {"data": data, "rows": rows, "verifier_name": VERIFIER_NAME}


def render_html(data: dict[str, Any]) -> str:
    return render_to_string("custody/report.html", _html_context(data))


def render_pdf(html: str, path: Path) -> str:
    """Write the PDF; return "" or, when WeasyPrint cannot run here, why not."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: its system libraries (pango) are missing
        return f"WeasyPrint is not usable here ({exc}); install weasyprint and libpango"
    weasyprint.HTML(string=html).write_pdf(path)
    return ""


def write_report(
    recording_id: int,
    out: Path,
    *,
    actor: Actor,
    justification: str = "",
    client: Client | None = None,
) -> ReportFiles:
    """Write report.json, report.html, report.pdf and overt_verify.py into ``out``."""
    data = build_report_data(recording_id, actor=actor, justification=justification, client=client)
    return write_report_files(data, out)


def write_report_files(data: dict[str, Any], out: Path) -> ReportFiles:
    """Render report data already built (and logged) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "report.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    html = render_html(data)
    html_path = out / "report.html"
    html_path.write_text(html, "utf-8")
    pdf_out = out / "report.pdf"
    problem = render_pdf(html, pdf_out)
    pdf_path: Path | None = pdf_out
    if problem:
        log.warning("custody report without PDF: %s", problem)
        pdf_path = None
    verifier_path = out / VERIFIER_NAME
    shutil.copyfile(VERIFIER_SOURCE, verifier_path)
    return ReportFiles(out, json_path, html_path, pdf_path, verifier_path, problem)


def report_zip(
    recording_id: int,
    *,
    actor: Actor,
    justification: str = "",
    client: Client | None = None,
) -> bytes:
    """The report's files in a zip, for download."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="overt-report-") as tmp:
        files = write_report(
            recording_id, Path(tmp), actor=actor, justification=justification, client=client
        )
        buffer = io.BytesIO()
        folder = f"custody-report-recording-{recording_id}"
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files.paths():
                archive.write(path, f"{folder}/{path.name}")
        return buffer.getvalue()
