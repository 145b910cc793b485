"""Taking evidence out of overt: one original, or an exhibit package of a recording.

Both follow the same order, so a refusal is always logged and a release always is:

1. the recording must be one the user may know of (else "not found", revealing nothing);
2. the access service checks the action (`download` or `export`), logging a refusal;
3. the reason must be one of the configured categories, with some words of its own;
4. the bytes must still be in the store (a purged original answers "gone");
5. the custody entry is committed, and only then is the first byte handed out.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from overt import errors
from overt.access.justify import JustificationError, justification
from overt.access.services import AccessDenied, Action, check, visible_recordings
from overt.custody.report import (
    REPORT_FORMAT,
    VERIFIER_NAME,
    ReportError,
    build_report,
    write_report_files,
)
from overt.custody.services import Actor, Client, Subject, record
from overt.evidence.models import Original, Recording
from overt.evidence.store import get_store
from overt.transcripts.exhibits import exhibit_files

from .capture import capture_members
from .package import Member, stream_zip

PACKAGE_FORMAT = "overt-exhibit-package/1"


class ReleaseError(errors.DomainError):
    """Why nothing was released; `status` is the HTTP status that says so."""

    status = 400
    title = "Bad request"


class NotVisible(ReleaseError, errors.NotFound):
    status, title = 404, "Not found"


class Refused(ReleaseError, errors.Refused):
    status, title = 403, "Not allowed"


class BadReason(ReleaseError, errors.Invalid):
    status, title = 400, "Justification required"


class Gone(ReleaseError, errors.Gone):
    status, title = 410, "No longer held"


@dataclass(frozen=True)
class Release:
    """Bytes cleared to leave, already on the custody record."""

    filename: str
    content_type: str
    chunks: Iterator[bytes]
    size: int | None = None  # unknown for a package until it has been written
    sha256: str | None = None
    custody_indices: list[int] = field(default_factory=list)

    def repr_digest(self) -> str | None:
        """RFC 9530 Repr-Digest, so the receiver can check what arrived."""
        if self.sha256 is None:
            return None
        return f"sha-256=:{base64.b64encode(bytes.fromhex(self.sha256)).decode()}:"


User = AbstractBaseUser | AnonymousUser


def visible_recording(user: User, recording_id: int) -> Recording:
    found = (
        visible_recordings(user, Recording.objects.select_related("officer", "device", "incident"))
        .filter(pk=recording_id)
        .first()
    )
    if found is None:
        raise NotVisible("no such recording, or you may not see it")
    return found


def require(user: User, action: Action, recording: Recording, client: Client) -> None:
    try:
        check(user, action, recording, client=client)
    except AccessDenied as exc:
        raise Refused(str(exc)) from exc


def _reason(category: object, text: object) -> str:
    try:
        return str(justification(category, text))
    except JustificationError as exc:
        raise BadReason(str(exc)) from exc


def _missing(originals: list[Original]) -> list[Original]:
    store = get_store()
    return [o for o in originals if not store.exists(o.sha256)]


def download_original(
    user: User, original_id: int, *, category: object, text: object, client: Client
) -> Release:
    """One original, byte for byte, after a `download` entry with the reason."""
    original = (
        Original.objects.filter(pk=original_id, recording__in=visible_recordings(user))
        .select_related("recording")
        .first()
    )
    if original is None:
        raise NotVisible("no such original, or you may not see it")
    require(user, Action.DOWNLOAD, original.recording, client)
    reason = _reason(category, text)
    if _missing([original]):
        raise Gone(f"original {original.pk} is no longer in the evidence store (purged)")
    with transaction.atomic():
        entry = record(
            "download",
            Actor("user", user.get_username()),
            Subject(original.sha256, {"original": original.pk, "recording": original.recording_id}),
            justification=reason,
            client=client,
            details={"size": original.size, "filename": original.filename},
        )
    return Release(
        filename=original.filename,
        content_type="application/octet-stream",
        chunks=get_store().read_range(original.sha256),
        size=original.size,
        sha256=original.sha256,
        custody_indices=[entry.index],
    )


def export_package(
    user: User, recording_id: int, *, category: object, text: object, client: Client
) -> Release:
    """A zip of the recording's originals, its custody report and the offline verifier.

    The report's own `export` entries (one per original, details.what = "exhibit
    package") are the record of this release, and they are inside the report, with
    inclusion proofs against a checkpoint signed for it.
    """
    recording = visible_recording(user, recording_id)
    require(user, Action.EXPORT, recording, client)
    reason = _reason(category, text)
    originals = list(recording.originals.order_by("started_at", "pk"))
    if not originals:
        raise Gone(f"recording {recording.pk} has no originals to export")
    if missing := _missing(originals):
        names = ", ".join(f"{o.pk} ({o.filename})" for o in missing)
        raise Gone(f"originals no longer in the evidence store (purged): {names}")
    actor = Actor("user", user.get_username())
    try:
        built = build_report(
            recording.pk, actor=actor, justification=reason, client=client, what="exhibit package"
        )
    except ReportError as exc:
        raise Gone(str(exc)) from exc
    data = built.data
    exported_at = datetime.now(UTC)
    folder = f"exhibit-recording-{recording.pk}"
    members = _original_members(originals, folder)
    report = _report_members(data, folder)
    manifest = _manifest(originals, members, report, data, reason, actor, exported_at)
    everything = [
        Member.of_bytes(f"{folder}/README.txt", _readme(recording, originals).encode()),
        Member.of_bytes(f"{folder}/manifest.json", manifest),
        *report,
        *capture_members(recording, folder, _exhibit_name),  # issue 13: signed at the lens
        *(  # issue 16: what was said, as stored and as captions, with hashes and provenance
            Member.of_bytes(f"{folder}/{path}", data)
            for path, data in exhibit_files(originals, _exhibit_name)
        ),
        *members,
    ]
    return Release(
        filename=f"{folder}.zip",
        content_type="application/zip",
        chunks=stream_zip(everything, modified=exported_at),
        custody_indices=built.export_indices,
    )


def _exhibit_name(original: Original) -> str:
    return f"{original.sha256[:12]}-{original.filename}"


def _verify_command(original: Original) -> str:
    exhibit = f"originals/{_exhibit_name(original)}"
    return f"python3 custody/{VERIFIER_NAME} custody/report.json --exhibit {exhibit}"


def _original_members(originals: list[Original], folder: str) -> list[Member]:
    store = get_store()

    def reader(sha256: str) -> Callable[[], Iterator[bytes]]:
        return lambda: store.read_range(sha256)

    return [
        Member(f"{folder}/originals/{_exhibit_name(o)}", o.size, reader(o.sha256))
        for o in originals
    ]


def _report_members(data: dict[str, Any], folder: str) -> list[Member]:
    """The report rendered as in `overt custody report`, held in memory (it is small)."""
    with tempfile.TemporaryDirectory(prefix="overt-exhibit-") as tmp:
        files = write_report_files(data, Path(tmp))
        return [
            Member.of_bytes(f"{folder}/custody/{path.name}", path.read_bytes())
            for path in files.paths()
        ]


def _manifest(
    originals: list[Original],
    members: list[Member],
    report: list[Member],
    data: dict[str, Any],
    reason: str,
    actor: Actor,
    exported_at: datetime,
) -> bytes:
    body = {
        "format": PACKAGE_FORMAT,
        "exported_at": exported_at.isoformat().replace("+00:00", "Z"),
        "exported_by": actor.id,
        "justification": reason,
        "recording": data["recording"],
        "originals": [
            {
                "path": member.name.split("/", 1)[1],
                "sha256": o.sha256,
                "size": o.size,
                "filename": o.filename,
                "playable": o.playable,
                "problem": o.problem,
            }
            for o, member in zip(originals, members, strict=True)
        ],
        "custody_report": {
            "format": REPORT_FORMAT,
            "files": [m.name.split("/", 1)[1] for m in report],
            "checkpoint": data["checkpoint"],
        },
        "how_to_verify": [_verify_command(o) for o in originals],
    }
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()


def _readme(recording: Recording, originals: list[Original]) -> str:
    lines = [
        f"Exhibit package: recording {recording.pk}, {recording.title or 'untitled'}",
        "",
        "originals/  the files exactly as they came off the camera (byte for byte);",
        "            each name starts with the first 12 hex digits of its SHA-256.",
        "custody/    the chain-of-custody report (JSON, HTML, PDF) and overt_verify.py.",
        "capture/    (from an overt camera) each clip's signed manifest and the camera's keys;",
        "            overt_verify.py checks them too, with overt_verify_capture.py.",
        "transcripts/ (if transcribed) each transcript version as stored (JSON) and as WebVTT;",
        "            index.json gives their SHA-256s, the model and who corrected what.",
        "manifest.json  what is here, who exported it, when and why.",
        "",
        "To check an original offline (Python 3 and the 'cryptography' package):",
        "",
    ]
    lines += [f"  {_verify_command(o)}" for o in originals]
    lines += [
        "",
        "It recomputes the file's SHA-256, checks every custody entry's inclusion proof and",
        "the checkpoint's Ed25519 signature. See the report for the verifier key.",
        "",
    ]
    return "\n".join(lines)
