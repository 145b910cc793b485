"""Whether the dashboards' snapshot still describes the catalogue.

A compliance run stores every verdict and a snapshot of their counts, which the dashboard
pages read (they never judge). Anything that could change a verdict after that (a
deployment imported or corrected, a recording or original saved or deleted) marks the
snapshot stale in the same transaction: the pages keep showing the figures, say since
when and why they are out of date, and the next compliance run replaces them. One UPDATE
that matches no row once the snapshot is already stale, so saving recordings stays cheap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models.signals import post_delete, post_save

from overt.evidence.models import Original, Recording

from .models import Snapshot


def mark_stale(reason: str, *, at: datetime | None = None) -> int:
    """Mark the current snapshot stale (first change wins); how many were marked."""
    return Snapshot.objects.filter(stale_since__isnull=True).update(
        stale_since=at or datetime.now(UTC), stale_reason=reason[:200]
    )


def _recording_changed(sender: Any, **kwargs: Any) -> None:
    mark_stale("recordings changed")


def connect() -> None:
    """Called once from the app's ready(): recordings and their originals decide verdicts."""
    for model in (Recording, Original):
        post_save.connect(_recording_changed, sender=model, dispatch_uid=f"oversight-{model}")
        post_delete.connect(_recording_changed, sender=model, dispatch_uid=f"oversight-del-{model}")
