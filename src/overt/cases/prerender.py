"""Pre-rendered watermarked copies: the choice bench/sharing.py measured.

On a 2-core machine one live watermarking encode runs at about real time; ten at once
ran at a third of it, with the first frame after 9 s (docs/benchmarks.md). So each video
of a share is rendered once, by a background job queued when the share is made, with the
recipient's name, the share's number and the time it was shared burned in; playback then
sends that file, which ten or a hundred recipients can stream at once. Until a copy is
ready (or where a worker has not run), playback falls back to the live encode, which
stamps the time of viewing instead.

The copies are not evidence: they live outside the write-once store, under
$OVERT_HOME/watermarked/<share>/, and are deleted when the share is revoked or found
expired.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from overt.conf import get_settings
from overt.evidence.models import Derivative, Original
from overt.evidence.store import get_store
from overt.jobs.services import enqueue

from .models import ExternalShare, SharedItem, WatermarkedCopy
from .sharing import mark_of
from .watermark import watermarked_mp4

JOB_KIND = "cases.watermark"
VIDEO_KINDS = {"recording", "clip", "redacted"}


def folder_of(share: ExternalShare) -> Path:
    return get_settings().home_dir / "watermarked" / share.pk


def copy_text(share: ExternalShare) -> str:
    org = f", {share.recipient_organisation}" if share.recipient_organisation else ""
    when = share.created_at.astimezone(UTC)
    return (
        f"{share.recipient_name}{org} · share {mark_of(share)} · shared {when:%Y-%m-%d %H:%M} UTC"
    )


def request_copies(share: ExternalShare) -> int:
    """Queue one render per video part of the share (inside the share's transaction)."""
    queued = 0
    for item in share.items.all():
        if item.kind not in VIDEO_KINDS:
            continue
        parts = 1 if item.derivative_id is not None else len(item.files)
        for part in range(parts):
            enqueue(JOB_KIND, f"share {share.pk} item {item.pk} part {part}",
                    {"item": item.pk, "part": part})  # fmt: skip
            queued += 1
    return queued


def source_of(item: SharedItem, part: int) -> Derivative | None:
    """The video a part plays from: the derivative itself, or the original's proxy."""
    if item.derivative is not None:
        return item.derivative
    sha = str(item.files[part]["sha256"])
    original = Original.objects.filter(sha256=sha).first()
    return Derivative.objects.filter(original=original, kind="proxy").first() if original else None


def render_copy(item_id: int, part: int) -> WatermarkedCopy | None:
    """The job: make the copy unless the share has ended or the copy exists already."""
    item = SharedItem.objects.select_related("share", "derivative").filter(pk=item_id).first()
    if item is None:
        return None
    share = item.share
    if share.revoked_at is not None or share.expires_at <= timezone.now():
        return None
    existing = WatermarkedCopy.objects.filter(item=item, part=part).first()
    if existing is not None and Path(existing.path).is_file():
        return existing
    source = source_of(item, part)
    if source is None:
        raise RuntimeError(f"item {item_id} part {part} has no playable copy yet")
    folder = folder_of(share)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"item{item.pk}-part{part}.mp4"
    partial = final.with_suffix(".partial")
    text = copy_text(share)
    digest = hashlib.sha256()
    with get_store().local_copy(source.sha256) as path, open(partial, "wb") as out:
        for chunk in watermarked_mp4(str(path), text):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, final)
    with transaction.atomic():
        row, _ = WatermarkedCopy.objects.update_or_create(item=item, part=part, defaults={
            "path": str(final), "sha256": digest.hexdigest(), "size": final.stat().st_size,
            "text": text, "made_at": timezone.now()})  # fmt: skip
    return row


def ready_copy(item: SharedItem, part: int) -> WatermarkedCopy | None:
    row = WatermarkedCopy.objects.filter(item=item, part=part).first()
    if row is None:
        return None
    path = Path(row.path)
    return row if path.is_file() and path.stat().st_size == row.size else None


def file_chunks(path: str, size: int = 256 * 1024) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(size):
            yield chunk


def drop_copies(share: ExternalShare) -> None:
    """A share that ended keeps no marked copies (they are not evidence)."""
    WatermarkedCopy.objects.filter(item__share=share).delete()
    shutil.rmtree(folder_of(share), ignore_errors=True)
