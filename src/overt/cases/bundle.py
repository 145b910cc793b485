"""A case's disclosure bundle: one zip, streamed while it is written (constant memory).

    bundle-<ref>/README.txt          what is here, and the commands that check it offline
    bundle-<ref>/manifest.json       every file with its SHA-256, size and provenance
    originals/, redacted/, clips/, stills/, documents/   the evidence, byte for byte
    notes/recording-<id>.json        title, notes, categories, bookmarks of each recording
    custody/recording-<id>/          that recording's custody report (JSON, HTML)
    capture/                         the camera's signed capture manifests, where present
    schedule/mg6c.csv, mg6c.pdf      the unused-material schedule, in the MG6C's shape
    overt_verify.py, overt_verify_bundle.py   the standalone checkers

Do-not-disclose items are left out altogether (they belong on the sensitive schedule,
which never goes to the defence). Every recording's export is logged first (its custody
report seals those entries, as for an exhibit package); then the manifest's own hash is
a `case-change` entry on the case, so the recipient can match it with the log.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string

from overt import errors
from overt.access.justify import justification
from overt.access.services import Action, User, check
from overt.custody.report import REPORT_FORMAT, ReportError, build_report, render_html
from overt.custody.services import Client, Subject, record
from overt.disclosure.package import Member, stream_zip
from overt.evidence.models import Derivative, Original
from overt.evidence.store import get_store
from overt.redaction.leaks import require_releasable

from .models import Case, CaseItem
from .services import active_items, actor_of, case_for, log_case

BUNDLE_FORMAT = "overt-disclosure-bundle/1"
VERIFIERS = Path(__file__).resolve().parents[1] / "custody"
FOLDERS = {
    "recording": "originals",
    "clip": "clips",
    "still": "stills",
    "redacted": "redacted",
    "document": "documents",
    "transcript": "transcripts",
}


@dataclass
class Bundle:
    filename: str
    chunks: Iterator[bytes]
    custody_indices: list[int]
    manifest_sha256: str


@dataclass
class _File:
    path: str
    sha256: str
    size: int
    kind: str
    chunks: Callable[[], Iterable[bytes]]
    extra: dict[str, Any]


def _stored(path: str, sha256: str, size: int, kind: str, **extra: Any) -> _File:
    store = get_store()
    return _File(path, sha256, size, kind, lambda: store.read_range(sha256), extra)


def _made(path: str, data: bytes, kind: str, **extra: Any) -> _File:
    return _File(path, hashlib.sha256(data).hexdigest(), len(data), kind, lambda: (data,), extra)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:120] or "file"


def case_bundle(
    user: User, case_id: object, *, category: object, text: object, client: Client | None
) -> Bundle:
    case = case_for(user, case_id)
    items = [
        i
        for i in active_items(case).select_related("derivative__original")
        if not i.do_not_disclose
    ]
    for item in items:  # a redacted copy leaves only once its leak check is clear (issue 15)
        if item.derivative is not None:
            require_releasable(item.derivative)
    recordings = {i.recording_id: i.recording for i in items if i.recording is not None}
    for rec in recordings.values():
        assert rec is not None
        check(user, Action.EXPORT, rec, client=client)  # a refusal is logged
    reason = str(justification(category, text))
    if not items:
        raise errors.Invalid("this case has nothing that may be disclosed", field="case")
    store = get_store()
    originals = list(
        Original.objects.filter(recording_id__in=[k for k in recordings if k is not None]).order_by(
            "pk"
        )
    )
    if missing := [o.filename for o in originals if not store.exists(o.sha256)]:
        raise errors.Gone(
            "originals no longer in the evidence store (purged): " + ", ".join(missing)
        )
    actor = actor_of(user)
    files: list[_File] = []
    indices: list[int] = []
    for rec in recordings.values():
        assert rec is not None
        if not any(o.recording_id == rec.pk for o in originals):
            continue
        try:
            built = build_report(
                rec.pk,
                actor=actor,
                justification=reason,
                client=client,
                what=f"disclosure bundle of case {case.reference}",
            )
        except ReportError as exc:
            raise errors.Gone(str(exc)) from exc
        indices += built.export_indices
        data = json.dumps(built.data, indent=2, ensure_ascii=False).encode() + b"\n"
        folder = f"custody/recording-{rec.pk}"
        files.append(_made(f"{folder}/report.json", data, "custody-report", recording=rec.pk))
        files.append(
            _made(
                f"{folder}/report.html",
                render_html(built.data).encode(),
                "custody-report",
                recording=rec.pk,
            )
        )
    for o in originals:
        files.append(
            _stored(
                f"originals/{o.sha256[:12]}-{_safe(o.filename)}",
                o.sha256,
                o.size,
                "original",
                recording=o.recording_id,
                capture_signature=getattr(o, "capture_signature", ""),
                problem=o.problem,
            )
        )
        manifest_sha = getattr(o, "capture_manifest_sha256", "")
        if manifest_sha and store.exists(manifest_sha):
            files.append(
                _stored(
                    f"capture/{o.sha256[:12]}-manifest",
                    manifest_sha,
                    store.size(manifest_sha),
                    "capture-manifest",
                    derived_from=o.sha256,
                )
            )
    seen = {f.sha256 for f in files}
    for item in items:
        files += [f for f in _item_files(item) if f.sha256 not in seen]
        seen.update(f.sha256 for f in files)
    # Every transcript version of the footage (the machine's and each correction).
    transcripts = Derivative.objects.filter(original__in=originals, kind="transcript")
    for v in transcripts.select_related("original").order_by("pk"):
        if v.sha256 not in seen and store.exists(v.sha256):
            files += _item_files_of(v)
            seen.add(v.sha256)
    for rec in recordings.values():
        assert rec is not None
        files.append(
            _made(f"notes/recording-{rec.pk}.json", _notes(rec), "notes", recording=rec.pk)
        )
    schedule = _schedule_rows(case, items)
    files.append(_made("schedule/mg6c.csv", _csv(schedule), "schedule"))
    files.append(_made("schedule/mg6c.pdf", _pdf(case, schedule), "schedule"))
    for name in ("overt_verify.py", "overt_verify_bundle.py"):
        files.append(_made(name, (VERIFIERS / name).read_bytes(), "verifier"))
    at = datetime.now(UTC)
    manifest = _manifest(case, files, actor.id, reason, at)
    digest = hashlib.sha256(manifest).hexdigest()
    with transaction.atomic():
        entry = record(
            "case-change",
            actor,
            Subject("", {"case": case.pk}),
            client=client,
            justification=reason,
            details={
                "case": case.pk,
                "reference": case.reference,
                "change": "bundle-exported",
                "manifest_sha256": digest,
                "files": len(files),
            },
        )
        log_case(case, [entry], f"disclosure bundle exported (manifest {digest[:12]})")
    indices.append(entry.index)
    folder = f"bundle-{_safe(case.reference)}"
    members = [
        Member.of_bytes(f"{folder}/README.txt", _readme(case, digest, entry.index)),
        Member.of_bytes(f"{folder}/manifest.json", manifest),
    ]
    members += [Member(f"{folder}/{f.path}", f.size, f.chunks) for f in files]
    return Bundle(f"{folder}.zip", stream_zip(members, modified=at), indices, digest)


def _item_files(item: CaseItem) -> list[_File]:
    if item.document is not None:
        d = item.document
        return [
            _stored(
                f"documents/{d.sha256[:12]}-{_safe(d.filename)}",
                d.sha256,
                d.size,
                "document",
                content_type=d.content_type,
            )
        ]
    if item.derivative is None:
        return []  # a recording: its originals are in already
    return _item_files_of(item.derivative)


def _item_files_of(v: Derivative) -> list[_File]:
    ext = {"clip": "mp4", "redacted": "mp4", "still": "png", "transcript": "json"}.get(
        v.kind, "bin"
    )
    return [
        _stored(
            f"{FOLDERS.get(v.kind, v.kind)}/{v.sha256[:12]}-{v.kind}-{v.pk}.{ext}",
            v.sha256,
            v.size,
            v.kind,
            derived_from=v.original.sha256,
            recording=v.original.recording_id,
            generator=v.generator,
            generator_version=v.generator_version,
            facts=v.facts,
        )
    ]


def _notes(recording: Any) -> bytes:
    body = {
        "recording": recording.pk,
        "title": recording.title,
        "notes": recording.notes,
        "categories": sorted(c.name for c in recording.categories.all())
        if hasattr(recording, "categories")
        else [],
        "bookmarks": [
            {"at": m.at.isoformat().replace("+00:00", "Z"), "text": m.text, "by": m.created_by}
            for m in recording.markers.order_by("at")
        ],
    }
    return json.dumps(body, indent=2, ensure_ascii=False).encode() + b"\n"


def _schedule_rows(case: Case, items: list[CaseItem]) -> list[dict[str, str]]:
    rows = []
    for number, item in enumerate(items, start=1):
        rec = item.recording
        when = rec.trigger_on_at.strftime("%d/%m/%Y %H:%M") if rec is not None else ""
        if rec is not None:
            what = f"Body-worn video, officer {rec.officer.number}: {rec.title or 'untitled'}"
            if item.derivative is not None:
                what = f"{item.get_kind_display().capitalize()} of {what[0].lower()}{what[1:]}"
        else:
            what = f"Document: {item.label}"
        rows.append(
            {
                "Item no.": str(number),
                "Description and relevant date": f"{what} ({when})" if when else what,
                "Location": f"overt case {case.reference}, item {item.pk}",
                "Comment / reason for not disclosing": item.note,
                "CPS decision (disclose / inspect / CND)": "",
            }
        )
    return rows


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["Item no."])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _pdf(case: Case, rows: list[dict[str, str]]) -> bytes:
    from weasyprint import HTML

    html = render_to_string("cases/mg6c.html", {"case": case, "rows": rows})
    return bytes(HTML(string=html).write_pdf())


def _manifest(case: Case, files: list[_File], by: str, reason: str, at: datetime) -> bytes:
    body = {
        "format": BUNDLE_FORMAT,
        "custody_report_format": REPORT_FORMAT,
        "case": {"reference": case.reference, "title": case.title},
        "exported_at": at.isoformat().replace("+00:00", "Z"),
        "exported_by": by,
        "justification": reason,
        "files": [
            {"path": f.path, "sha256": f.sha256, "size": f.size, "kind": f.kind, **f.extra}
            for f in files
        ],
    }
    return json.dumps(body, indent=2, ensure_ascii=False).encode() + b"\n"


def _readme(case: Case, digest: str, index: int) -> bytes:
    return (
        f"Disclosure bundle: case {case.reference}, {case.title}\n\n"
        "manifest.json lists every file here with its SHA-256 and, for clips, stills and\n"
        "redacted copies, the original each was made from. custody/ holds each recording's\n"
        "chain-of-custody report; schedule/ the unused-material schedule (MG6C shape).\n\n"
        "To check everything offline (Python 3 and the 'cryptography' package), from this\n"
        "folder:\n\n"
        "  python3 overt_verify_bundle.py .\n\n"
        "It checks every file against the manifest, every custody report's entries and\n"
        "signed checkpoint, and each derivative's provenance back to its original. Add\n"
        "--key FILE with the force's published verifier key to rule out a substituted key.\n\n"
        f"The manifest's SHA-256 is {digest}; the force's custody log records it in entry\n"
        f"{index} (action case-change, bundle-exported).\n"
    ).encode()
