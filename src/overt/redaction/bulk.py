"""Review in bulk: include or leave out several tracks at once, merge tracks that are one
person. Each is one transaction with one custody entry naming every track touched."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from overt.custody.services import record

from .engine import tracking
from .engine.tracking import _MAX_EXTRAPOLATION_S
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

    Its boxes cover every merged track wherever it was on screen: at every instant where
    any of them has a box, starts, ends or changes how it is extrapolated, the merged box
    is the union of each on-screen track's box there (as the render interpolates it).
    Between two such instants every track's box moves in a straight line, so the merged
    box, interpolated the same way, still covers each of them (its left and top edges
    are a minimum of straight lines, its right and bottom a maximum). Tracks that are on
    screen at the same instant in places that do not touch are two things, not one
    person: refused, since one track has one box at a time.
    """
    with transaction.atomic():
        tracks = _tracks(project, numbers)
        if len(tracks) < 2:
            raise RedactionProblem("choose at least two tracks to merge")
        labels = {t.label for t in tracks}
        if len(labels) > 1:
            raise RedactionProblem("only tracks of one kind can be merged (faces with faces)")
        keep, others = tracks[0], tracks[1:]
        boxes = list(Box.objects.filter(track__in=tracks).order_by("t", "id"))
        engine = _engine_tracks(tracks, boxes)
        _refuse_two_at_once(engine)
        union = _union_boxes(engine, boxes)
        Box.objects.filter(track__in=tracks).delete()
        for box in union:
            box.track = keep
        Box.objects.bulk_create(union)
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


def _engine_tracks(tracks: list[Track], boxes: list[Box]) -> dict[int, tracking.Track]:
    """Each track as the render sees it (its samples, its span)."""
    return {
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


def _union_boxes(engine: dict[int, tracking.Track], boxes: list[Box]) -> list[Box]:
    """The merged track's boxes: the union of every on-screen track's box at each instant
    where any track's motion may bend (see merge_tracks)."""
    times: set[float] = set()
    for track in engine.values():
        times.update((track.start_t, track.end_t))
        times.update(s.t for s in track.samples)
        if track.samples:  # where extrapolation stops trusting the end's velocity
            times.add(track.samples[0].t - _MAX_EXTRAPOLATION_S)
            times.add(track.samples[-1].t + _MAX_EXTRAPOLATION_S)
    start = min(t.start_t for t in engine.values())
    end = max(t.end_t for t in engine.values())
    # (rounded t) -> (score, manual) of the boxes really there
    exact: dict[float, tuple[float, bool]] = {}
    for box in boxes:
        key = round(box.t, 4)
        score, manual = exact.get(key, (0.0, False))
        exact[key] = (max(score, box.score), manual or box.manual)
    union: dict[float, Box] = {}
    for t in sorted(x for x in times if start - 1e-9 <= x <= end + 1e-9):
        there = [b for b in (track.box_at(t) for track in engine.values()) if b is not None]
        key = round(t, 4)
        if not there or key in union:
            continue
        score, manual = exact.get(key, (max(tr.score for tr in engine.values()), False))
        union[key] = Box(
            t=t,
            x1=min(b[0] for b in there),
            y1=min(b[1] for b in there),
            x2=max(b[2] for b in there),
            y2=max(b[3] for b in there),
            score=score,
            manual=manual,
        )
    return list(union.values())


def _refuse_two_at_once(engine: dict[int, tracking.Track]) -> None:
    """Refuse when, at any box of one track, another track's box then (as the render
    interpolates it) is somewhere else: two things on screen at once."""
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
