"""Review in bulk: include or leave out several tracks at once, merge tracks that are one
person. Each is one transaction with one custody entry naming every track touched."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from overt.custody.services import record

from .engine import tracking
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
    the union of theirs, its span covers all of theirs, and it is masked if any of them
    was. The others are deleted.

    Two boxes at the same instant become one box covering both, so nothing a merged
    track masked is left uncovered. Tracks that are on screen at the same instant in
    places that do not touch are two things, not one person: refused, since one track
    has one box at a time and merging them would unmask one of them."""
    with transaction.atomic():
        tracks = _tracks(project, numbers)
        if len(tracks) < 2:
            raise RedactionProblem("choose at least two tracks to merge")
        labels = {t.label for t in tracks}
        if len(labels) > 1:
            raise RedactionProblem("only tracks of one kind can be merged (faces with faces)")
        keep, others = tracks[0], tracks[1:]
        boxes = list(Box.objects.filter(track__in=tracks).order_by("t", "id"))
        _refuse_two_at_once(tracks, boxes)
        at: dict[float, Box] = {}
        for box in boxes:
            key = round(box.t, 4)
            first = at.get(key)
            if first is None:
                at[key] = box
                continue
            first.x1, first.y1 = min(first.x1, box.x1), min(first.y1, box.y1)
            first.x2, first.y2 = max(first.x2, box.x2), max(first.y2, box.y2)
            first.score = max(first.score, box.score)
            first.manual = first.manual or box.manual
        Box.objects.filter(track__in=tracks).delete()
        for box in at.values():
            box.pk, box.track = None, keep
        Box.objects.bulk_create(at.values())
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


def _refuse_two_at_once(tracks: list[Track], boxes: list[Box]) -> None:
    """Refuse when, at any box of one track, another track's box then (as the render
    interpolates it) is somewhere else: two things on screen at once."""
    engine = {
        t.number: tracking.Track(
            t.number,
            t.label,
            t.detector,
            [
                tracking.Sample(b.t, (b.x1, b.y1, b.x2, b.y2), b.score, b.manual)
                for b in boxes
                if b.track_id == t.pk
            ],
            t.start_s,
            t.end_s,
        )
        for t in tracks
    }
    for number, track in engine.items():
        for sample in track.samples:
            for other_number, other in engine.items():
                there = other.box_at(sample.t) if other_number != number else None
                if there is not None and not _touch(sample.box, there):
                    first, second = sorted((number, other_number))
                    raise RedactionProblem(
                        f"tracks {first} and {second} are both on screen at "
                        f"{sample.t:.2f} s in different places: they are not one person, "
                        "so they were not merged"
                    )


def _touch(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two boxes (x1, y1, x2, y2) overlap or meet, as one person's do."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]
