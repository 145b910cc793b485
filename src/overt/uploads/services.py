"""The database side of tus uploads: creation, locks and durable offsets, and termination.
Completion into the ingest service is in `completion`, the expiry sweep in `sweep`.

Everything here is synchronous Django code; the ASGI handler calls it in a thread.
An upload's offset only ever counts bytes that were fsynced before the row was written.
Refusals are domain errors (overt.errors, overt.uploads.errors); the tus edge answers them.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from overt.conf import get_settings
from overt.custody.services import Actor, Subject, record
from overt.errors import Invalid, NoSpace, NotFound, Refused, TooLarge
from overt.evidence.store import InsufficientSpace, get_store
from overt.ingest import prechecks
from overt.ingest.services import IngestError, NoOfficer

from . import storage
from .errors import UploadGone, UploadLocked
from .models import Upload
from .tokens import Principal
from .tusmeta import ClipMetadata

log = logging.getLogger(__name__)

LOCK_TTL_S = 60.0  # a lock nobody renews for this long is free again (any host)
LOCK_RENEW_S = 20.0
RETRY_AFTER_S = 10
HOST = socket.gethostname()
INSTANCE = secrets.token_hex(6)


# --- creation --------------------------------------------------------------------------


def prepare_upload(principal: Principal, meta: ClipMetadata, length: int) -> dict[str, Any]:
    """Check a creation request; return the new upload's fields. Nothing is written."""
    settings = get_settings()
    if length > settings.upload_max_bytes:
        raise TooLarge(
            f"Upload-Length {length} is over the limit of {settings.upload_max_bytes} bytes",
        )
    device_serial = meta.device or (principal.id if principal.kind == "device" else None)
    if principal.kind == "device" and not principal.dock and device_serial != principal.id:
        raise Refused(
            f"the token of device {principal.id} may upload only that device's clips, not "
            f"{device_serial}'s; a dock needs a dock token (`overt device token --dock`)",
        )
    if not device_serial:
        raise Invalid("Upload-Metadata needs 'device' (the camera's serial number)")
    # The ingest service's own pre-check (overt.ingest.prechecks), before any byte: the
    # officer named, else the device's wearer when the clip began (or now).
    try:
        officer, device = prechecks.admit(
            meta.officer, device_serial, lambda: meta.started_at or timezone.now()
        )
    except NoOfficer as exc:
        raise Invalid(
            "Upload-Metadata needs 'officer', or the device must be assigned to one "
            "(`overt device assign`)",
        ) from exc
    except IngestError as exc:
        raise Invalid(str(exc)) from exc
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


def insert_upload(upload_id: str, fields: dict[str, Any], client_address: str) -> Upload:
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
    """NoSpace (507) unless every byte promised so far, plus `more`, fits above the reserve."""
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
        raise NoSpace(
            f"not enough room for this upload: {need} bytes needed (uploads in progress, "
            f"this one and the {reserve}-byte reserve), {free} free",
        )
    try:  # and room in the evidence store, by the ingest service's rule
        prechecks.check_space(get_store(), more, warn=False)
    except InsufficientSpace as exc:
        raise NoSpace(f"not enough room in the evidence store: {exc}") from exc


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
        raise NotFound("no such upload")
    if upload.status in (Upload.Status.TERMINATED, Upload.Status.EXPIRED):
        raise UploadGone(f"this upload was {upload.status}; start a new one")
    return upload


def acquire(upload_id: str, principal: Principal, owner: str) -> Upload:
    """Take the upload's lock for one request; UploadLocked (423) when another holds it."""
    with transaction.atomic():
        upload = get_owned(upload_id, principal)
        if upload.status != Upload.Status.RECEIVING:
            return upload
        now = timezone.now()
        if upload.expires_at < now:
            raise UploadGone("this upload expired unfinished; start a new one")
        held = (
            upload.lock_owner
            and upload.lock_expires_at is not None
            and upload.lock_expires_at > now
            and _owner_alive(upload.lock_owner)
        )
        if held:
            raise UploadLocked(
                "another request is writing to this upload; retry once it has finished",
                retry_after=RETRY_AFTER_S,
            )
        taken = Upload.objects.filter(pk=upload_id, lock_owner=upload.lock_owner).update(
            lock_owner=owner, lock_expires_at=now + timedelta(seconds=LOCK_TTL_S)
        )
        if not taken:
            raise UploadLocked("another request took this upload first", retry_after=RETRY_AFTER_S)
        upload.lock_owner = owner
        return upload


def checkpoint(upload_id: str, owner: str, offset: int | None) -> bool:
    """Renew the lock (and record a new durable offset); False if the lock was lost."""
    now = timezone.now()
    changes: dict[str, Any] = {
        "lock_expires_at": now + timedelta(seconds=LOCK_TTL_S),
        "expires_at": now + timedelta(seconds=get_settings().upload_expiry_seconds),
        "updated_at": now,
    }
    if offset is not None:
        changes["offset"] = offset
    return bool(Upload.objects.filter(pk=upload_id, lock_owner=owner).update(**changes))


def release(upload_id: str, owner: str, offset: int | None = None) -> Upload | None:
    now = timezone.now()
    changes: dict[str, Any] = {"lock_owner": "", "lock_expires_at": None, "updated_at": now}
    if offset is not None:
        changes["offset"] = offset
        changes["expires_at"] = now + timedelta(seconds=get_settings().upload_expiry_seconds)
    Upload.objects.filter(pk=upload_id, lock_owner=owner).update(**changes)
    return Upload.objects.filter(pk=upload_id).first()


# --- termination -------------------------------------------------------------------------


def terminate(upload_id: str, principal: Principal) -> None:
    with transaction.atomic():
        upload = get_owned(upload_id, principal)
        if upload.status != Upload.Status.RECEIVING:
            raise Refused(
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
            raise UploadLocked(
                "a request is writing to this upload; try again shortly",
                retry_after=RETRY_AFTER_S,
            )
        reason = "terminated by the client"
        end_upload(upload, Upload.Status.TERMINATED, principal.actor, reason)
    storage.remove(storage.tus_path(upload_id))


def end_upload(upload: Upload, status: str, actor: Actor, reason: str) -> None:
    """End an unfinished upload (terminated or expired), with its custody entry."""
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
