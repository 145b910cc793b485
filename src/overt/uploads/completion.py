"""Completion of a tus upload: every byte received is handed to the ingest service, or
kept in quarantine when it is not what the client declared, or kept and marked failed
when ingest refuses it. A chunk whose Upload-Checksum fails is quarantined here too.

`finish` returns the upload as it ended; `failure_of` says, as a domain error, how an
upload that was not catalogued ended. The tus edge turns both into its answer.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from overt.custody.services import Actor, Subject, record
from overt.errors import DomainError, NoSpace
from overt.evidence.models import Original
from overt.evidence.store import HashMismatch, InsufficientSpace, StoreError
from overt.ingest.models import CaptureManifest
from overt.ingest.services import IngestError, IngestRequest, ingest

from . import storage, unseal
from .errors import ChecksumMismatch, CompletionFailed, NotCatalogued, StoreUnavailable
from .models import Quarantined, Upload
from .services import RETRY_AFTER_S, release
from .tokens import Principal

log = logging.getLogger(__name__)


def recording_of(upload: Upload) -> int | None:
    """The recording an upload was catalogued into, if any."""
    if not upload.original_id:
        return None
    originals = Original.objects.filter(pk=upload.original_id)
    return originals.values_list("recording_id", flat=True).first()


def failure_of(upload: Upload) -> DomainError | None:
    """How an upload that ended without being catalogued ended, or None."""
    if upload.status == Upload.Status.QUARANTINED:
        return ChecksumMismatch(
            upload.problem,
            upload=upload.id,
            declared_sha256=upload.declared_sha256,
            actual_sha256=upload.sha256,
            quarantined=True,
        )
    if upload.status == Upload.Status.FAILED:
        return NotCatalogued(upload.problem, upload=upload.id, kept=True)
    return None


def finish(upload_id: str, owner: str, sha256: str | None, offset: int | None = None) -> Upload:
    """Hand a fully received upload to the ingest service (the caller holds its lock, and
    every byte is fsynced); `offset`, when given, is recorded with the outcome. Returns
    the upload as it ended (unchanged when it was no longer this caller's to finish).

    A declared SHA-256 that does not match keeps the bytes in quarantine and says so.
    On a refusal the file is kept and the upload marked failed; on a passing problem
    (no space, store down) it stays receiving, so the client's retry finishes it.
    """
    upload = Upload.objects.get(pk=upload_id)
    if upload.status != Upload.Status.RECEIVING or upload.lock_owner != owner:
        return upload
    if offset is not None:
        upload.offset = offset
    path = storage.tus_path(upload_id)
    opened: unseal.Opened | None = None
    try:
        if sha256 is None:
            sha256 = storage.hash_file(path, upload.length).hexdigest()
        if upload.declared_sha256 and sha256 != upload.declared_sha256:
            return _quarantine_upload(upload, sha256)
        request = _request(upload, sha256)
        opened = _unsealed(upload, path)
        if opened is not None:  # a camera segment sealed at rest: its plaintext is the original
            request = replace(
                request,
                path=opened.path,
                size=opened.size,
                declared_sha256=opened.sha256,
                received_sha256=opened.sha256,
            )
        result = ingest(request)
    except HashMismatch as exc:
        # The file changed between arrival and storing: keep what is on disk, flagged.
        return _quarantine_upload(upload, exc.actual)
    except InsufficientSpace as exc:
        release(upload_id, owner, offset)
        raise NoSpace(str(exc)) from exc
    except IngestError as exc:
        upload.status = Upload.Status.FAILED
        upload.problem = f"received in full and kept, but not catalogued: {exc}"
        upload.sha256 = sha256 or ""
        _close(upload)
        log.warning("upload %s kept but refused by ingest: %s", upload_id, exc)
        return upload
    except (StoreError, OSError) as exc:
        release(upload_id, owner, offset)
        log.error("upload %s could not be stored yet: %s", upload_id, exc)
        raise StoreUnavailable(
            f"the upload is received but could not be stored yet ({exc}); retry later",
            retry_after=RETRY_AFTER_S,
        ) from exc
    except Exception as exc:
        # Anything unforeseen (a bug, a database failure): every byte is kept and the lock
        # released, and the upload stays receiving and complete, so the client's HEAD (or
        # the sweep) finishes it later. Never a held lock over uncatalogued bytes.
        release(upload_id, owner, offset)
        log.exception("upload %s: completion failed; kept, to be finished on retry", upload_id)
        raise CompletionFailed(
            "every byte was received and is kept, but completing the upload failed; "
            "send HEAD to retry",
            retry_after=RETRY_AFTER_S,
            upload=upload_id,
        ) from exc
    finally:
        if opened is not None:  # the store adopted (linked) or copied it; this name goes
            storage.remove(opened.path)
    upload.status = result.status  # "stored" or "duplicate"
    upload.original_id = result.id
    upload.sha256 = result.sha256
    _close(upload)
    storage.remove(path)
    return upload


def _unsealed(upload: Upload, path: Path) -> unseal.Opened | None:
    """The plaintext of a camera segment sealed at rest, decrypted next to the upload; None
    when the upload is not one, or when it does not open (it is then stored as received,
    and the capture rules flag it against its signed manifest)."""
    manifest_sha256 = upload.metadata.get("capture-manifest")
    if not manifest_sha256:
        return None
    row = CaptureManifest.objects.filter(sha256=manifest_sha256).only("body").first()
    if row is None or unseal.encryption_of(bytes(row.body)) is None:
        return None
    try:
        return unseal.open_upload(path, path.with_suffix(".plain"))
    except unseal.SealError as exc:
        log.warning("upload %s: sealed segment stored as received: %s", upload.id, exc)
        return None


def _close(upload: Upload) -> None:
    upload.finished_at = timezone.now()
    upload.lock_owner = ""
    upload.lock_expires_at = None
    upload.save()


def _request(upload: Upload, sha256: str) -> IngestRequest:
    """What the upload's creation said, and the hash of the bytes as they arrived."""
    return IngestRequest(
        path=storage.tus_path(upload.id),
        filename=upload.filename,
        declared_sha256=sha256,
        size=upload.length,
        officer_number=upload.officer_number,
        device_serial=upload.device_serial,
        actor=Actor(upload.principal_kind, upload.principal),
        started_at=upload.started_at,
        stopped_at=upload.stopped_at,
        source=Original.Source.UPLOAD,
        adopt=True,
        received_sha256=sha256,
        capture_manifest=upload.metadata.get("capture-manifest"),
        capture_recording=(upload.metadata.get("capture-recording") or "").strip() or None,
    )


def _quarantine_upload(upload: Upload, actual: str) -> Upload:
    path = storage.tus_path(upload.id)
    size = path.stat().st_size
    dest = storage.quarantine(path, f"upload-{upload.id}.bin")
    actor = Actor(upload.principal_kind, upload.principal)
    with transaction.atomic():
        Quarantined.objects.create(
            reason=Quarantined.Reason.UPLOAD_SHA256,
            path=str(dest),
            size=size,
            sha256=actual,
            expected=upload.declared_sha256,
            actual=actual,
            upload=upload,
            principal=str(actor),
        )
        upload.status = Upload.Status.QUARANTINED
        upload.sha256 = actual
        upload.problem = (
            f"the {size} bytes received hash to SHA-256 {actual}, not the declared "
            f"{upload.declared_sha256}; they are kept in quarantine (upload {upload.id}) and "
            "were not catalogued as evidence"
        )
        _close(upload)
        record(
            "verify",
            actor,
            Subject(actual, {"upload": upload.id}),
            details={
                "ok": False,
                "what": "upload",
                "check": "declared sha256",
                "declared_sha256": upload.declared_sha256,
                "actual_sha256": actual,
                "size": size,
                "filename": upload.filename,
                "device": upload.device_serial,
                "officer": upload.officer_number,
                "quarantined": str(dest),
            },
        )
    log.warning(
        "upload %s quarantined: declared %s, got %s", upload.id, upload.declared_sha256, actual
    )
    return upload


def quarantine_chunk(
    upload: Upload,
    principal: Principal,
    fd: int,
    start: int,
    length: int,
    algorithm: str,
    expected: str,
    actual: str,
) -> Quarantined:
    """Keep a tus chunk whose Upload-Checksum failed (it is not part of the upload)."""
    name = f"upload-{upload.id}-chunk-{start}-{secrets.token_hex(4)}.bin"
    dest, sha256 = storage.quarantine_copy(fd, start, length, name)
    with transaction.atomic():
        row = Quarantined.objects.create(
            reason=Quarantined.Reason.CHUNK_CHECKSUM,
            path=str(dest),
            size=length,
            sha256=sha256,
            expected=f"{algorithm} {expected}",
            actual=f"{algorithm} {actual}",
            upload=upload,
            upload_offset=start,
            principal=str(principal.actor),
        )
        record(
            "verify",
            principal.actor,
            Subject(sha256, {"upload": upload.id}),
            details={
                "ok": False,
                "what": "upload chunk",
                "check": f"Upload-Checksum {algorithm}",
                "expected": expected,
                "actual": actual,
                "offset": start,
                "size": length,
                "quarantined": str(dest),
            },
        )
    return row
