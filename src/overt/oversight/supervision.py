"""Supervisor review: the weekly weighted sample per team, the review of each sampled
recording with reason codes, and each officer's own outcomes.

A draw is logged (`review-draw`) with its seed, the candidates' count and the drawn ids
and weights; drawing the same team and week again needs a reason and is logged the same
way, beside the first. An outcome is logged (`review-outcome`) on each original of the
recording, so it shows in that recording's custody history.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from overt import errors
from overt.conf import get_settings
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Marker, Original, Recording

from . import sampling
from .compliance import zone
from .models import ComplaintLink, ReviewDraw, ReviewItem, Verdict

REASON_CODES = {
    "late-activation": "late activation",
    "early-deactivation": "early deactivation",
    "obstructed-view": "obstructed view",
    "professionalism-concern": "professionalism concern",
    "good-practice": "good practice",
}
FLAG_PREFIX = "flagged for review"  # transcript keyword bookmarks (overt.transcripts)


class ReviewInvalid(errors.Invalid):
    pass


class ReviewConflict(errors.Conflict):
    pass


def check_team(own_team: str, team: str) -> None:
    """A supervisor draws and reviews for the team they supervise, not another's."""
    if own_team and team != own_team:
        raise errors.Refused(f"you supervise {own_team}, not {team}")


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _bounds(week: date) -> tuple[datetime, datetime]:
    tz = zone()
    lo = datetime.combine(week, time(), tz).astimezone(UTC)
    return lo, lo + timedelta(days=7)


def candidates(team: str, week: date) -> dict[int, list[str]]:
    """The team's recordings of the week, each with why it deserves a closer look."""
    lo, hi = _bounds(week)
    ids = list(
        Recording.objects.filter(
            officer__team=team, trigger_on_at__gte=lo, trigger_on_at__lt=hi
        ).values_list("pk", flat=True)
    )
    why: dict[int, list[str]] = {pk: [] for pk in ids}
    if not ids:
        return why
    wanted = set(ids)
    near = Verdict.objects.filter(
        attendance__arrived_at__gte=lo - timedelta(days=1), attendance__arrived_at__lt=hi
    ).values_list("status", "recordings", "attendance__deployment__type")
    for status, recs, kind in near:
        for pk in set(recs) & wanted:
            if kind == "use-of-force":
                why[pk].append("use-of-force")
            if status == "late":
                why[pk].append("late-activation")
    for pk in ComplaintLink.objects.filter(recording_id__in=ids).values_list(
        "recording_id", flat=True
    ):
        why[pk].append("complaint")
    flagged = Marker.objects.filter(recording_id__in=ids, text__istartswith=FLAG_PREFIX)
    for pk in flagged.values_list("recording_id", flat=True):
        why[pk].append("flagged-keyword")
    return {pk: sorted(set(reasons)) for pk, reasons in why.items()}


def draw(
    team: str,
    week: date,
    *,
    actor: Actor,
    size: int | None = None,
    seed: str | None = None,
    redraw_reason: str = "",
) -> ReviewDraw:
    """Draw the team's sample for the week starting on `week` (a Monday)."""
    if week.weekday() != 0:
        raise ReviewInvalid(f"{week} is not a Monday: weeks start on Mondays", field="week")
    if not team.strip():
        raise ReviewInvalid("a team is needed", field="team")
    size = size or get_settings().oversight_review_sample_size
    chosen_seed = bool(seed)  # a seed the caller picked could have been tried in advance
    seed = seed or secrets.token_hex(16)
    priority = get_settings().oversight_review_priority_weight
    with transaction.atomic():
        earlier = ReviewDraw.objects.select_for_update().filter(team=team, week=week).first()
        if earlier is not None and not redraw_reason.strip():
            raise ReviewConflict(
                f"{team} was already drawn for the week of {week} (seed {earlier.seed}); a "
                "redraw needs a reason, and is logged beside the first draw"
            )
        why = candidates(team, week)
        weights = {pk: sampling.weight(reasons, priority) for pk, reasons in why.items()}
        chosen = sampling.sample(sorted(weights.items()), size, seed)
        made = ReviewDraw.objects.create(
            team=team,
            week=week,
            seed=seed,
            size=size,
            candidates=len(weights),
            redraw_reason=redraw_reason.strip(),
            drawn_by=str(actor),
            drawn_at=datetime.now(UTC),
        )
        ReviewItem.objects.bulk_create(
            ReviewItem(draw=made, recording_id=pk, weight=weights[pk], why=why[pk]) for pk in chosen
        )
        record(
            "review-draw",
            actor,
            justification=redraw_reason.strip(),
            details={
                "team": team,
                "week": week.isoformat(),
                "seed": seed,
                "seed_chosen": chosen_seed,
                "size": size,
                "candidates": len(weights),
                "weights": {str(pk): w for pk, w in sorted(weights.items()) if w != 1.0},
                "drawn": chosen,
                "redraw": earlier is not None,
            },
        )
    return made


def review(item_id: int, *, codes: list[str], note: str, actor: Actor) -> ReviewItem:
    """Record the review of one sampled recording."""
    unknown = [c for c in codes if c not in REASON_CODES]
    if unknown or not codes:
        raise ReviewInvalid(
            f"reason codes must be among {', '.join(REASON_CODES)}"
            + (f" (not {', '.join(unknown)})" if unknown else ""),
            field="codes",
        )
    with transaction.atomic():
        item = ReviewItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise errors.NotFound(f"no sampled recording {item_id}")
        if item.reviewed_at is not None:
            raise ReviewConflict(f"sampled recording {item_id} was reviewed already")
        item.reason_codes = sorted(set(codes))
        item.note = note.strip()
        item.reviewed_by = str(actor)
        item.reviewed_at = datetime.now(UTC)
        item.save(update_fields=["reason_codes", "note", "reviewed_by", "reviewed_at"])
        details = {
            "review_item": item.pk,
            "recording": item.recording_id,
            "codes": item.reason_codes,
            "note": item.note,
        }
        subjects = [
            Subject(sha, {"original": pk, "recording": item.recording_id})
            for pk, sha in Original.objects.filter(recording_id=item.recording_id).values_list(
                "pk", "sha256"
            )
        ] or [Subject("", {"recording": item.recording_id})]
        for subject in subjects:
            record("review-outcome", actor, subject, details=details, at=item.reviewed_at)
    return item


def items_for_team(team: str | None) -> QuerySet[ReviewItem]:
    query = ReviewItem.objects.select_related("draw", "recording__officer")
    return query.filter(draw__team=team) if team else query


def own_outcomes(officer_id: int | None) -> QuerySet[ReviewItem]:
    """An officer's reviewed recordings (their own outcomes, for their page)."""
    if officer_id is None:
        return ReviewItem.objects.none()
    return (
        ReviewItem.objects.filter(recording__officer_id=officer_id, reviewed_at__isnull=False)
        .select_related("draw", "recording")
        .order_by("-reviewed_at")
    )


def backlog() -> dict[str, Any]:
    """Sampled recordings not yet reviewed, per team."""
    counts: dict[str, int] = defaultdict(int)
    for team in ReviewItem.objects.filter(reviewed_at__isnull=True).values_list(
        "draw__team", flat=True
    ):
        counts[team] += 1
    return dict(sorted(counts.items()))
