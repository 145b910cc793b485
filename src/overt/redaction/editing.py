"""Reviewing a redaction project: include or leave out a track, move its box with keyframes,
add a manual box, mark audio to mute or bleep. Every change is in the custody log."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from overt.custody.services import record

from .models import AudioRange, Box, RedactionProject, Track
from .services import RedactionProblem, project_subject, user_actor

MANUAL_TRACK_SECONDS = 2.0  # a new manual box lasts this long until keyframes move it


def _check_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    x1, y1 = max(0.0, x1), max(0.0, y1)
    x2, y2 = min(1.0, x2), min(1.0, y2)
    if not (x2 - x1 > 0.001 and y2 - y1 > 0.001):
        raise RedactionProblem("a box needs a width and a height inside the picture")
    return (x1, y1, x2, y2)


def _check_time(project: RedactionProject, t: float) -> float:
    t = float(t)
    if t < 0 or (project.duration_s is not None and t > project.duration_s + 0.5):
        raise RedactionProblem(f"{t:.2f} s is outside the recording")
    return t


def set_included(track: Track, included: bool, username: str) -> Track:
    with transaction.atomic():
        Track.objects.filter(pk=track.pk).update(
            included=included, decided_by=username, decided_at=timezone.now()
        )
        track.refresh_from_db()
        record(
            "redaction",
            user_actor(username),
            project_subject(track.project, track=track.number),
            details={
                "step": "track-include" if included else "track-exclude",
                "track": track.number,
                "label": track.label,
            },
        )
    return track


def set_keyframe(
    track: Track, t: float, box: tuple[float, float, float, float], username: str
) -> Box:
    """Put (or move) a reviewer's box on `track` at time t; the track grows to cover t."""
    project = track.project
    t = _check_time(project, t)
    corners = _check_box(box)
    with transaction.atomic():
        track.boxes.filter(t__gt=t - 1e-4, t__lt=t + 1e-4).delete()
        keyframe = Box.objects.create(
            track=track,
            t=t,
            x1=corners[0],
            y1=corners[1],
            x2=corners[2],
            y2=corners[3],
            score=1.0,
            manual=True,
        )
        Track.objects.filter(pk=track.pk).update(
            start_s=min(track.start_s, t),
            end_s=max(track.end_s, t),
            decided_by=username,
            decided_at=timezone.now(),
        )
        record(
            "redaction",
            user_actor(username),
            project_subject(project, track=track.number),
            details={
                "step": "keyframe",
                "track": track.number,
                "t": round(t, 4),
                "box": [round(v, 4) for v in corners],
            },
        )
    track.refresh_from_db()
    return keyframe


def delete_keyframe(keyframe: Box, username: str) -> None:
    if not keyframe.manual:
        raise RedactionProblem(
            "only a reviewer's keyframe can be removed; leave the track out instead"
        )
    track = keyframe.track
    with transaction.atomic():
        t = keyframe.t
        keyframe.delete()
        remaining = list(track.boxes.order_by("t").values_list("t", flat=True))
        if remaining and track.label == Track.Label.MANUAL:
            Track.objects.filter(pk=track.pk).update(start_s=remaining[0], end_s=remaining[-1])
        elif not remaining:
            track.delete()
        record(
            "redaction",
            user_actor(username),
            project_subject(track.project, track=track.number),
            details={"step": "keyframe-remove", "track": track.number, "t": round(t, 4)},
        )


def add_manual_track(
    project: RedactionProject,
    t: float,
    box: tuple[float, float, float, float],
    username: str,
    *,
    seconds: float = MANUAL_TRACK_SECONDS,
) -> Track:
    """A reviewer's own box from t for `seconds` (two keyframes, both movable)."""
    t = _check_time(project, t)
    corners = _check_box(box)
    end = t + seconds
    if project.duration_s is not None:
        end = min(end, project.duration_s)
    end = max(end, t)
    with transaction.atomic():
        locked = RedactionProject.objects.select_for_update().get(pk=project.pk)
        number = (
            locked.tracks.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        track = Track.objects.create(
            project=locked,
            number=number,
            label=Track.Label.MANUAL,
            detector="manual",
            start_s=t,
            end_s=end,
            score=1.0,
            decided_by=username,
            decided_at=timezone.now(),
        )
        for when in sorted({t, end}):
            Box.objects.create(
                track=track,
                t=when,
                x1=corners[0],
                y1=corners[1],
                x2=corners[2],
                y2=corners[3],
                manual=True,
            )
        record(
            "redaction",
            user_actor(username),
            project_subject(locked, track=number),
            details={
                "step": "track-add",
                "track": number,
                "start_s": round(t, 4),
                "end_s": round(end, 4),
                "box": [round(v, 4) for v in corners],
            },
        )
    return track


def add_audio_range(
    project: RedactionProject,
    start_s: float,
    end_s: float,
    mode: str,
    username: str,
    note: str = "",
) -> AudioRange:
    start_s, end_s = float(start_s), float(end_s)
    if not 0 <= start_s < end_s:
        raise RedactionProblem("an audio range must start at or after 0 and end after it starts")
    if mode not in AudioRange.Mode.values:
        raise RedactionProblem(f"audio mode must be one of {', '.join(AudioRange.Mode.values)}")
    with transaction.atomic():
        item = AudioRange.objects.create(
            project=project, start_s=start_s, end_s=end_s, mode=mode, note=note, created_by=username
        )
        record(
            "redaction",
            user_actor(username),
            project_subject(project),
            details={
                "step": "audio-range-add",
                "start_s": round(start_s, 4),
                "end_s": round(end_s, 4),
                "mode": mode,
            },
        )
    return item


def remove_audio_range(item: AudioRange, username: str) -> None:
    with transaction.atomic():
        project = item.project
        details = {
            "step": "audio-range-remove",
            "start_s": round(item.start_s, 4),
            "end_s": round(item.end_s, 4),
            "mode": item.mode,
        }
        item.delete()
        record("redaction", user_actor(username), project_subject(project), details=details)
