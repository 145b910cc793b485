"""The `case` relation of the access matrix: the recordings that are items of a case the
user is on, now. overt.access asks this (registered at start-up); it never decides
anything itself: what the relation allows is the matrix's cell."""

from __future__ import annotations

from django.utils import timezone

from .models import CaseDocument, CaseItem, CaseMember


def case_recordings(user_id: int, recording_id: int | None) -> frozenset[int]:
    cases = CaseMember.active(timezone.now()).filter(user_id=user_id).values("case_id")
    items = CaseItem.objects.filter(
        case_id__in=cases, removed_at__isnull=True, recording__isnull=False
    )
    if recording_id is not None:
        items = items.filter(recording_id=recording_id)
    return frozenset(items.values_list("recording_id", flat=True).distinct())


def case_documents(shas: list[str]) -> set[str]:
    """Which of these store objects are documents uploaded to a case (for the scrub)."""
    return set(CaseDocument.objects.filter(sha256__in=shas).values_list("sha256", flat=True))
