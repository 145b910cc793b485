"""The expiry sweep: abandoned uploads expire (their partial bytes' hash kept in the
custody log), complete ones that a crash left unfinished are finished, and files in tus/
that no upload holds any more are removed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from overt.conf import get_settings
from overt.custody.services import Actor
from overt.errors import DomainError

from . import storage
from .completion import finish
from .models import Upload
from .services import LOCK_TTL_S, end_upload, new_lock_owner

log = logging.getLogger(__name__)

FINISH_GRACE_S = 300.0  # a complete upload nobody finished for this long is finished by the sweep


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
            end_upload(
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
            except DomainError as exc:
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
