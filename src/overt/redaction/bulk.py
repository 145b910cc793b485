"""Review in bulk: include or leave out several tracks at once, merge tracks that are one
person. Each is one transaction with one custody entry naming every track touched."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from overt.custody.services import record

from .models import Box, RedactionProject, Track
from .services import RedactionProblem, project_subject, user_actor


def _tracks(project: RedactionProject, numbers: Sequence[int]) -> list[Track]:
    wanted = sorted(set(numbers))
    if not wanted:
        raise RedactionProblem("choose at least one track")
    found = list(project.tracks.select_for_update().filter(number__in=wanted).order_by("number"))
    missing = sorted(set(wanted) - {t.number for t in found})
    if missing:
        raise RedactionProblem(f"no track {', '.join(map(str, missing))} in this project")
    return found


def set_included_many(
    project: RedactionProject, numbers: Sequence[int], included: bool, username: str
) -> list[int]:
    """Mask (included=True) or leave out every listed track. Returns the track numbers."""
    with transaction.atomic():
        tracks = _tracks(project, numbers)
        Track.objects.filter(pk__in=[t.pk for t in tracks]).update(
            included=included, decided_by=username, decided_at=timezone.now()
        )
        changed = [t.number for t in tracks]
        record(
            "redaction",
            user_actor(username),
            project_subject(project),
            details={
                "step": "track-include" if included else "track-exclude",
                "tracks": changed,
            },
        )
    return changed


def merge_tracks(project: RedactionProject, numbers: Sequence[int], username: str) -> Track:
    """Merge tracks that follow one person into the lowest-numbered one: its boxes are
    the union of theirs (a later box at the same instant is dropped), its span covers
    all of theirs, and it is masked if any of them was. The others are deleted."""
    with transaction.atomic():
        tracks = _tracks(project, numbers)
        if len(tracks) < 2:
            raise RedactionProblem("choose at least two tracks to merge")
        labels = {t.label for t in tracks}
        if len(labels) > 1:
            raise RedactionProblem("only tracks of one kind can be merged (faces with faces)")
        keep, others = tracks[0], tracks[1:]
        taken = {round(t, 4) for t in keep.boxes.values_list("t", flat=True)}
        for box in Box.objects.filter(track__in=others).order_by("t", "id"):
            key = round(box.t, 4)
            if key in taken:
                continue
            taken.add(key)
            box.pk, box.track = None, keep
            box.save()
        keep.start_s = min(t.start_s for t in tracks)
        keep.end_s = max(t.end_s for t in tracks)
        keep.score = max(t.score for t in tracks)
        keep.included = any(t.included for t in tracks)
        keep.decided_by, keep.decided_at = username, timezone.now()
        keep.save()
        merged = [t.number for t in others]
        Track.objects.filter(pk__in=[t.pk for t in others]).delete()
        record(
            "redaction",
            user_actor(username),
            project_subject(project, track=keep.number),
            details={"step": "track-merge", "track": keep.number, "merged": merged},
        )
    return keep
