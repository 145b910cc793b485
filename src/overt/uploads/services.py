"""The database side of tus uploads: creation, locks, durable offsets, completion into
the ingest service, quarantine, termination and expiry.

Everything here is synchronous Django code; the ASGI handler calls it in a thread.
An upload's offset only ever counts bytes that were fsynced before the row was written.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from overt.conf import get_settings
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Original
from overt.evidence.store import HashMismatch, InsufficientSpace, StoreError, get_store
from overt.ingest import prechecks
from overt.ingest.services import IngestError, IngestRequest, NoOfficer, ingest

from . import storage
from .asgi_http import HTTPProblem
from .models import Quarantined, Upload
from .tokens import Principal
from .tusmeta import ClipMetadata

log = logging.getLogger(__name__)

LOCK_TTL_S = 60.0  # a lock nobody renews for this long is free again (any host)
LOCK_RENEW_S = 20.0
FINISH_GRACE_S = 300.0  # a complete upload nobody finished for this long is finished by the sweep
RETRY_AFTER_S = 10
HOST = socket.gethostname()
INSTANCE = secrets.token_hex(6)


# --- creation --------------------------------------------------------------------------


def prepare_upload(principal: Principal, meta: ClipMetadata, length: int) -> dict:
    """Check a creation request; return the new upload's fields. Nothing is written."""
    settings = get_settings()
    if length > settings.upload_max_bytes:
        raise HTTPProblem(
            413,
            f"Upload-Length {length} is over the limit of {settings.upload_max_bytes} bytes",
        )
    device_serial = meta.device or (principal.id if principal.kind == "device" else None)
    if principal.kind == "device" and not principal.dock and device_serial != principal.id:
        raise HTTPProblem(
            403,
            f"the token of device {principal.id} may upload only that device's clips, not "
            f"{device_serial}'s; a dock needs a dock token (`overt device token --dock`)",
        )
    if not device_serial:
        raise HTTPProblem(400, "Upload-Metadata needs 'device' (the camera's serial number)")
    # The ingest service's own pre-check (overt.ingest.prechecks), before any byte: the
    # officer named, else the device's wearer when the clip began (or now).
    try:
        officer, device = prechecks.admit(
            meta.officer, device_serial, lambda: meta.started_at or timezone.now()
        )
    except NoOfficer as exc:
        raise HTTPProblem(
            400,
            "Upload-Metadata needs 'officer', or the device must be assigned to one "
            "(`overt device assign`)",
        ) from exc
    except IngestError as exc:
        raise HTTPProblem(400, str(exc)) from exc
    check_space(length)
    return {
        "principal_kind": principal.kind,
        "principal": principal.id,
        "token": principal.token,
        "officer_number": officer.number,
        "device_serial": device.serial,
        "filename": meta.filename or "",
        "declared_sha256": meta.sha256 or "",
        "started_at": meta.started_at,
        "stopped_at": meta.stopped_at,
        "metadata_header": meta.raw,
        "metadata": meta.values,
        "length": length,
    }


def insert_upload(upload_id: str, fields: dict, client_address: str) -> Upload:
    """Record a new upload whose (empty) file exists. The first bytes that count make its
    directory entry durable (see the tus handler)."""
    expiry = timedelta(seconds=get_settings().upload_expiry_seconds)
    return Upload.objects.create(
        id=upload_id,
        **{**fields, "filename": fields["filename"] or f"upload-{upload_id}"},
        expires_at=timezone.now() + expiry,
        client_address=client_address[:64],
    )


def check_space(more: int) -> None:
    """507 unless every byte promised so far, plus `more`, fits above the reserve."""
    reserve = get_settings().min_free_bytes
    pending = (
        Upload.objects.filter(status=Upload.Status.RECEIVING).aggregate(
            n=Sum(F("length") - F("offset"))
        )["n"]
        or 0
    )
    free = storage.free_bytes()
    need = pending + more + reserve
    if need > free:
        raise HTTPProblem(
            507,
            f"not enough room for this upload: {need} bytes needed (uploads in progress, "
            f"this one and the {reserve}-byte reserve), {free} free",
        )
    try:  # and room in the evidence store, by the ingest service's rule
        prechecks.check_space(get_store(), more, warn=False)
    except InsufficientSpace as exc:
        raise HTTPProblem(507, f"not enough room in the evidence store: {exc}") from exc


# --- locks and offsets -------------------------------------------------------------------


def new_lock_owner() -> str:
    return f"{HOST}|{os.getpid()}|{INSTANCE}|{secrets.token_hex(6)}"


def _owner_alive(owner: str) -> bool:
    parts = owner.split("|")
    if len(parts) != 4 or not parts[1].isdigit():
        return True
    host, pid_text, instance, _ = parts
    if host != HOST:
        return True  # another node: only the lock's expiry can free it
    pid = int(pid_text)
    if pid == os.getpid():
        return instance == INSTANCE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def get_owned(upload_id: str, principal: Principal) -> Upload:
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is not None and not principal.owns(upload):
        # Ids are 128 random bits: one in the wrong hands has leaked. The caller cannot
        # tell it from a missing id; the server's log can.
        log.warning("upload %s asked for by %s, not its owner", upload_id, principal.actor)
    if upload is None or not principal.owns(upload):
        raise HTTPProblem(404, "no such upload")
    if upload.status in (Upload.Status.TERMINATED, Upload.Status.EXPIRED):
        raise HTTPProblem(410, f"this upload was {upload.status}; start a new one")
    return upload


def acquire(upload_id: str, principal: Principal, owner: str) -> Upload:
    """Take the upload's lock for one request; 423 when another request holds it."""
    with transaction.atomic():
        upload = get_owned(upload_id, principal)
        if upload.status != Upload.Status.RECEIVING:
            return upload
        now = timezone.now()
        if upload.expires_at < now:
            raise HTTPProblem(410, "this upload expired unfinished; start a new one")
        held = (
            upload.lock_owner
            and upload.lock_expires_at is not None
            and upload.lock_expires_at > now
            and _owner_alive(upload.lock_owner)
        )
        if held:
            raise HTTPProblem(
                423,
                "another request is writing to this upload; retry once it has finished",
                headers=[("Retry-After", str(RETRY_AFTER_S))],
            )
        taken = Upload.objects.filter(pk=upload_id, lock_owner=upload.lock_owner).update(
            lock_owner=owner, lock_expires_at=now + timedelta(seconds=LOCK_TTL_S)
        )
        if not taken:
            raise HTTPProblem(
                423,
                "another request took this upload first",
                headers=[("Retry-After", str(RETRY_AFTER_S))],
            )
        upload.lock_owner = owner
        return upload


def checkpoint(upload_id: str, owner: str, offset: int | None) -> bool:
    """Renew the lock (and record a new durable offset); False if the lock was lost."""
    now = timezone.now()
    changes: dict = {
        "lock_expires_at": now + timedelta(seconds=LOCK_TTL_S),
        "expires_at": now + timedelta(seconds=get_settings().upload_expiry_seconds),
        "updated_at": now,
    }
    if offset is not None:
        changes["offset"] = offset
    return bool(Upload.objects.filter(pk=upload_id, lock_owner=owner).update(**changes))


def release(upload_id: str, owner: str, offset: int | None = None) -> Upload | None:
    now = timezone.now()
    changes: dict = {"lock_owner": "", "lock_expires_at": None, "updated_at": now}
    if offset is not None:
        changes["offset"] = offset
        changes["expires_at"] = now + timedelta(seconds=get_settings().upload_expiry_seconds)
    Upload.objects.filter(pk=upload_id, lock_owner=owner).update(**changes)
    return Upload.objects.filter(pk=upload_id).first()


# --- completion --------------------------------------------------------------------------


@dataclass
class Outcome:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    problem: HTTPProblem | None = None


def outcome_for(upload: Upload) -> Outcome:
    headers = [("Overt-Upload-Status", upload.status)]
    if upload.sha256:
        headers.append(("Overt-Sha256", upload.sha256))
    if upload.original_id:
        original = Original.objects.filter(pk=upload.original_id).first()
        headers.append(("Overt-Original", str(upload.original_id)))
        if original is not None:
            headers.append(("Overt-Recording", str(original.recording_id)))
    if upload.status == Upload.Status.QUARANTINED:
        return Outcome(
            460,
            headers,
            HTTPProblem(
                460,
                upload.problem,
                upload=upload.id,
                declared_sha256=upload.declared_sha256,
                actual_sha256=upload.sha256,
                quarantined=True,
            ),
        )
    if upload.status == Upload.Status.FAILED:
        return Outcome(422, headers, HTTPProblem(422, upload.problem, upload=upload.id, kept=True))
    return Outcome(204, headers)


def finish(upload_id: str, owner: str, sha256: str | None, offset: int | None = None) -> Outcome:
    """Hand a fully received upload to the ingest service (the caller holds its lock, and
    every byte is fsynced); `offset`, when given, is recorded with the outcome.

    A declared SHA-256 that does not match keeps the bytes in quarantine and says so.
    On a refusal the file is kept and the upload marked failed; on a passing problem
    (no space, store down) it stays receiving, so the client's retry finishes it.
    """
    upload = Upload.objects.get(pk=upload_id)
    if upload.status != Upload.Status.RECEIVING or upload.lock_owner != owner:
        return outcome_for(upload)
    if offset is not None:
        upload.offset = offset
    path = storage.tus_path(upload_id)
    try:
        if sha256 is None:
            sha256 = storage.hash_file(path, upload.length).hexdigest()
        if upload.declared_sha256 and sha256 != upload.declared_sha256:
            return outcome_for(_quarantine_upload(upload, sha256))
        result = ingest(_request(upload, sha256), store=storage.store_for(path, sha256))
    except HashMismatch as exc:
        # The file changed between arrival and storing: keep what is on disk, flagged.
        return outcome_for(_quarantine_upload(upload, exc.actual))
    except InsufficientSpace as exc:
        release(upload_id, owner, offset)
        raise HTTPProblem(507, str(exc)) from exc
    except IngestError as exc:
        upload.status = Upload.Status.FAILED
        upload.problem = f"received in full and kept, but not catalogued: {exc}"
        upload.sha256 = sha256 or ""
        _close(upload)
        log.warning("upload %s kept but refused by ingest: %s", upload_id, exc)
        return outcome_for(upload)
    except (StoreError, OSError) as exc:
        release(upload_id, owner, offset)
        log.error("upload %s could not be stored yet: %s", upload_id, exc)
        raise HTTPProblem(
            503,
            f"the upload is received but could not be stored yet ({exc}); retry later",
            headers=[("Retry-After", str(RETRY_AFTER_S))],
        ) from exc
    except Exception as exc:
        # Anything unforeseen (a bug, a database failure): every byte is kept and the lock
        # released, and the upload stays receiving and complete, so the client's HEAD (or
        # the sweep) finishes it later. Never a held lock over uncatalogued bytes.
        release(upload_id, owner, offset)
        log.exception("upload %s: completion failed; kept, to be finished on retry", upload_id)
        raise HTTPProblem(
            500,
            "every byte was received and is kept, but completing the upload failed; "
            "send HEAD to retry",
            headers=[("Retry-After", str(RETRY_AFTER_S))],
            upload=upload_id,
        ) from exc
    upload.status = result.status  # "stored" or "duplicate"
    upload.original_id = result.id
    upload.sha256 = result.sha256
    _close(upload)
    storage.remove(path)
    return outcome_for(upload)


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


# --- termination and expiry --------------------------------------------------------------


def terminate(upload_id: str, principal: Principal) -> None:
    with transaction.atomic():
        upload = get_owned(upload_id, principal)
        if upload.status != Upload.Status.RECEIVING:
            raise HTTPProblem(
                403,
                f"this upload is {upload.status}: what it received is kept as evidence or in "
                "quarantine, and a device cannot delete it",
            )
        now = timezone.now()
        if (
            upload.lock_owner
            and upload.lock_expires_at
            and upload.lock_expires_at > now
            and (_owner_alive(upload.lock_owner))
        ):
            raise HTTPProblem(
                423,
                "a request is writing to this upload; try again shortly",
                headers=[("Retry-After", str(RETRY_AFTER_S))],
            )
        _end(upload, Upload.Status.TERMINATED, principal.actor, "terminated by the client")
    storage.remove(storage.tus_path(upload_id))


def _end(upload: Upload, status: str, actor: Actor, reason: str) -> None:
    path = storage.tus_path(upload.id)
    partial = ""
    try:
        partial = storage.hash_file(path, upload.offset).hexdigest()
    except OSError:
        partial = ""
    upload.status = status
    upload.problem = reason
    upload.finished_at = timezone.now()
    upload.lock_owner = ""
    upload.lock_expires_at = None
    upload.save()
    record(
        "delete",
        actor,
        Subject("", {"upload": upload.id}),
        details={
            "what": "unfinished upload",
            "reason": reason,
            "received": upload.offset,
            "length": upload.length,
            "received_sha256": partial,
            "filename": upload.filename,
            "device": upload.device_serial,
            "officer": upload.officer_number,
            "uploader": f"{upload.principal_kind}:{upload.principal}",
        },
    )


def expire_due(now: datetime | None = None) -> dict[str, int]:
    """Expire abandoned uploads, finish complete ones a crash left, drop orphan files."""
    now = now or timezone.now()
    counts = {"expired": 0, "finished": 0, "orphans": 0}
    free_lock = Q(lock_owner="") | Q(lock_expires_at__lt=now)
    for upload_id in list(
        Upload.objects.filter(status=Upload.Status.RECEIVING, expires_at__lt=now)
        .filter(free_lock)
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            upload = Upload.objects.select_for_update().get(pk=upload_id)
            if upload.status != Upload.Status.RECEIVING or upload.expires_at >= now:
                continue
            if upload.complete:
                continue  # finished below, never expired: every byte arrived
            _end(
                upload,
                Upload.Status.EXPIRED,
                Actor.system("uploads.expire"),
                f"no bytes for {get_settings().upload_expiry_seconds} s: expired unfinished",
            )
        storage.remove(storage.tus_path(upload_id))
        counts["expired"] += 1
    stale = now - timedelta(seconds=FINISH_GRACE_S)
    for upload_id in list(
        Upload.objects.filter(
            status=Upload.Status.RECEIVING, offset=F("length"), updated_at__lt=stale
        )
        .filter(free_lock)
        .values_list("pk", flat=True)
    ):
        owner = new_lock_owner()
        taken = (
            Upload.objects.filter(pk=upload_id)
            .filter(free_lock)
            .update(lock_owner=owner, lock_expires_at=now + timedelta(seconds=LOCK_TTL_S))
        )
        if taken:
            try:
                finish(upload_id, owner, None)
                counts["finished"] += 1
            except HTTPProblem as exc:
                log.warning("sweep could not finish upload %s: %s", upload_id, exc.detail)
    counts["orphans"] = _remove_orphans(now)
    return counts


def _remove_orphans(now: datetime) -> int:
    """Files in tus/ whose upload row never committed or has ended (and was ingested)."""
    removed = 0
    cutoff = now.timestamp() - 3600
    folder = storage.folder("tus")
    for path in folder.glob("*.part"):
        try:
            if path.stat().st_mtime > cutoff:
                continue
        except FileNotFoundError:
            continue
        row = Upload.objects.filter(pk=path.stem).values("status").first()
        keep = row is not None and row["status"] in (
            Upload.Status.RECEIVING,
            Upload.Status.FAILED,
        )
        if not keep:
            storage.remove(path)
            removed += 1
    return removed


def next_expiry() -> datetime | None:
    upload = Upload.objects.filter(status=Upload.Status.RECEIVING).order_by("expires_at").first()
    return upload.expires_at if upload else None


def http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)
