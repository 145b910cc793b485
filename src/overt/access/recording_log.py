"""Custody entries about a whole recording: one per original, written together.

A change to who may see a recording, a break-glass opening or a refused attempt concerns
every clip of it, so each clip's own history (and each original's custody report) must
show it, as views, downloads and exports already do.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from overt.custody.models import CustodyEntry
from overt.custody.services import Action, Actor, Subject, record_many
from overt.evidence.models import Recording


def recording_subjects(recording: Recording) -> list[Subject]:
    """One custody subject per original of `recording` (or one naming only the recording)."""
    originals = recording.originals.order_by("started_at", "id").values_list("pk", "sha256")
    subjects = [Subject(sha, {"original": pk, "recording": recording.pk}) for pk, sha in originals]
    return subjects or [Subject("", {"recording": recording.pk})]


def record_for_recording(
    action: str, actor: Actor, recording: Recording, **kw: Any
) -> list[CustodyEntry]:
    """Record `action` once for each original of `recording`, all or none (kw: record()'s)."""
    with transaction.atomic():
        return record_many(
            [Action(action, actor, subject, **kw) for subject in recording_subjects(recording)]
        )
