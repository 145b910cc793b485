"""The review workspace's writes: recording details, bookmarks, clips and stills and
multi-camera offsets, for every edge (API, pages, CLI).

Each change is checked with the access service first and written to the custody log in
the same transaction as the change. Refusals are domain errors (overt.errors): a hidden
or missing object is NotFound, a forbidden action Refused (access's AccessDenied), bad
input Invalid with the field at fault; the edges decide how they read. Just over 400 lines
because every write shares the same check-then-record helpers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction

from overt import errors
from overt.access.incident_moves import MoveRefused, check_move, log_move, log_refusal
from overt.access.services import Action, User, allowed, check, visible_recordings
from overt.custody.services import Actor, Client, Subject, record
from overt.evidence.models import Category, Incident, Marker, Original, Recording, Tag
from overt.ingest.times import CaptureTimeError, check_capture_time
from overt.jobs.models import Job

from . import derive, offsets
from .models import SyncOffset


def actor_of(user: User) -> Actor:
    return Actor("user", user.get_username())


def subject_of(recording: Recording) -> Subject:
    first = recording.originals.order_by("started_at", "id").first()
    ids: dict[str, int | str] = {"recording": recording.pk}
    if first is not None:
        ids["original"] = first.pk
    return Subject(first.sha256 if first else "", ids)


def recording_for(user: User, pk: int, action: Action, client: Client | None) -> Recording:
    """The recording if `user` may know of it (else NotFound), after checking `action`
    (AccessDenied, logged by the access service)."""
    recording = (
        visible_recordings(user, Recording.objects.select_related("incident")).filter(pk=pk).first()
    )
    if recording is None:
        raise errors.NotFound("no such recording")
    check(user, action, recording, client=client)
    return recording


# --- recording details ---------------------------------------------------------------------


def edit_recording(
    user: User, recording: Recording, changes: Mapping[str, Any], client: Client | None
) -> list[str]:
    """Apply `changes` (title, notes, incident [+ incident_title], tags, categories, with
    an optional reason); one custody entry per field that changed. Returns the fields
    changed.

    A change of incident that would change who may see the recording is refused (and the
    refusal logged, outside the rolled-back edit) unless the editor may make that access
    change (overt.access.incident_moves).

    Checks EDIT itself, whoever the caller: NotFound if `user` may not know of the
    recording, AccessDenied (logged) if they may not edit it."""
    recording = recording_for(user, recording.pk, Action.EDIT, client)
    try:
        return _edit_recording(user, recording, changes, client)
    except MoveRefused as refused:  # the edit rolled back; its refusal stays on the record
        log_refusal(refused, actor_of(user), subject_of(recording), client)
        raise


def _edit_recording(
    user: User, recording: Recording, data: Mapping[str, Any], client: Client | None
) -> list[str]:
    from overt.retention.services import NotFound as UnknownCategory
    from overt.retention.services import categorize

    actor, reason = actor_of(user), data.get("reason", "")
    changed: list[str] = []
    with transaction.atomic():
        rec = (
            Recording.objects.select_for_update(of=("self",))
            .select_related("incident")
            .get(pk=recording.pk)
        )
        subject = subject_of(rec)

        def log(field: str, before: Any, after: Any) -> None:
            changed.append(field)
            record(
                "metadata-change",
                actor,
                subject,
                justification=reason,
                client=client,
                details={"recording": rec.pk, "field": field, "before": before, "after": after},
            )

        for field in ("title", "notes"):
            if field in data and data[field] != getattr(rec, field):
                before = getattr(rec, field)
                setattr(rec, field, data[field])
                rec.save(update_fields=[field])
                log(field, before, data[field])
        if "incident" in data:
            reference = (data["incident"] or "").strip()
            before = rec.incident.reference if rec.incident else None
            if reference != (before or ""):
                incident = None
                if reference:
                    incident = Incident.objects.filter(reference=reference).first()
                    if incident is None:
                        if not data.get("incident_title"):
                            missing = f"no incident {reference!r}; give incident_title to create it"
                            raise errors.Invalid(missing, field="incident")
                        incident = Incident.objects.create(
                            reference=reference,
                            title=data["incident_title"],
                            occurred_at=rec.trigger_on_at,
                        )
                move = check_move(user, rec, rec.incident, incident)
                rec.incident = incident
                rec.save(update_fields=["incident"])
                log("incident", before, reference or None)
                if move is not None:
                    log_move(move, actor, subject, reason, client)
        if "tags" in data:
            wanted = sorted({t.strip() for t in data["tags"] if t.strip()})
            before = sorted(rec.tags.values_list("name", flat=True))
            if wanted != before:
                rec.tags.set([Tag.objects.get_or_create(name=name)[0] for name in wanted])
                log("tags", before, wanted)
        if "categories" in data:
            wanted_set = {c.strip() for c in data["categories"] if c.strip()}
            known = set(Category.objects.filter(name__in=wanted_set).values_list("name", flat=True))
            if unknown := wanted_set - known:
                names = ", ".join(sorted(unknown))
                raise errors.Invalid(f"unknown categories: {names}", field="categories")
            before_set = set(rec.categories.values_list("name", flat=True))
            try:  # retention's own service: it logs category-change and reconsiders retention
                for name in sorted(before_set - wanted_set):
                    categorize(rec.pk, name, actor=actor, remove=True, reason=reason)
                for name in sorted(wanted_set - before_set):
                    categorize(rec.pk, name, actor=actor, reason=reason)
            except UnknownCategory as exc:
                raise errors.Invalid(str(exc), field="categories") from exc
            if before_set != wanted_set:
                changed.append("categories")
    return changed


# --- bookmarks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkerAt:
    """Where a new bookmark points: a wall-clock time, or a clip and seconds into it."""

    at: datetime | None = None
    original: int | None = None
    offset_s: float | None = None


def _marker_time(originals: list[Original], where: MarkerAt) -> datetime:
    if where.at is not None:
        at = where.at
    elif where.original is not None and where.offset_s is not None:
        original = next((o for o in originals if o.pk == where.original), None)
        if original is None or original.started_at is None:
            raise errors.Invalid(
                "not a clip of this recording with a start time", field="original"
            )
        try:
            at = original.started_at + timedelta(seconds=where.offset_s)
        except OverflowError:
            raise errors.Invalid("past the end of any date", field="offset_s") from None
    else:
        raise errors.Invalid("give either at, or original and offset_s", field="at")
    try:  # the same range as every time a camera or client tells overt
        return check_capture_time(at, "at")
    except CaptureTimeError as exc:
        field = "at" if where.at is not None else "offset_s"
        raise errors.Invalid(str(exc), field=field) from exc


def add_marker(
    user: User, recording: Recording, text: str, where: MarkerAt, client: Client | None
) -> Marker:
    """Add a bookmark (custody action `marker-add`). Checks EDIT itself, as
    edit_recording() does (NotFound, or AccessDenied logged)."""
    recording = recording_for(user, recording.pk, Action.EDIT, client)
    at = _marker_time(list(recording.originals.order_by("started_at", "id")), where)
    with transaction.atomic():
        marker = Marker.objects.create(
            recording=recording, at=at.astimezone(UTC), text=text, created_by=user.get_username()
        )
        record(
            "marker-add",
            actor_of(user),
            subject_of(recording),
            client=client,
            details={
                "recording": recording.pk,
                "marker": marker.pk,
                "at": marker.at.isoformat().replace("+00:00", "Z"),
                "text": marker.text,
            },
        )
    return marker


def own_marker(user: User, pk: int, client: Client | None) -> Marker:
    """One of `user`'s own bookmarks on a recording they may edit (camera markers stay as
    they came)."""
    marker = (
        Marker.objects.select_related("recording")
        .filter(recording__in=visible_recordings(user), pk=pk)
        .first()
    )
    if marker is None:
        raise errors.NotFound("no such bookmark")
    check(user, Action.EDIT, marker.recording, client=client)
    if marker.created_by != user.get_username():
        raise errors.Refused("only the reviewer who added a bookmark may change it")
    return marker


def change_marker_text(user: User, marker: Marker, text: str, client: Client | None) -> Marker:
    with transaction.atomic():
        before, marker.text = marker.text, text
        marker.save(update_fields=["text"])
        record(
            "metadata-change",
            actor_of(user),
            subject_of(marker.recording),
            client=client,
            details={
                "recording": marker.recording_id,
                "marker": marker.pk,
                "before": before,
                "after": marker.text,
            },
        )
    return marker


def remove_marker(user: User, marker: Marker, client: Client | None) -> None:
    with transaction.atomic():
        record(
            "metadata-change",
            actor_of(user),
            subject_of(marker.recording),
            client=client,
            details={
                "recording": marker.recording_id,
                "marker": marker.pk,
                "removed": {
                    "at": marker.at.isoformat().replace("+00:00", "Z"),
                    "text": marker.text,
                },
            },
        )
        marker.delete()


# --- clips and stills ----------------------------------------------------------------------


def _original_of(recording: Recording, pk: int) -> Original:
    original = recording.originals.filter(pk=pk).first()
    if original is None:
        raise errors.Invalid(f"not a clip of recording {recording.pk}", field="original")
    return original


def request_clip(
    user: User,
    recording: Recording,
    original: int,
    in_s: float,
    out_s: float,
    *,
    label: str = "",
    client: Client | None = None,
) -> derive.Requested:
    """Queue a frame-accurate clip (derive.request_clip); bad times are Invalid."""
    # derive's DeriveError is already Invalid: the edges map it.
    return derive.request_clip(
        recording,
        _original_of(recording, original),
        in_s,
        out_s,
        username=user.get_username(),
        label=label,
        client=client,
    )


def request_still(
    user: User,
    recording: Recording,
    original: int,
    at_s: float,
    *,
    label: str = "",
    client: Client | None = None,
) -> derive.Requested:
    """Queue a PNG still of one picture (derive.request_still)."""
    # derive's DeriveError is already Invalid: the edges map it.
    return derive.request_still(
        recording,
        _original_of(recording, original),
        at_s,
        username=user.get_username(),
        label=label,
        client=client,
    )


def derived_job(user: User, pk: int, client: Client | None) -> Job:
    """A clip or still job, if `user` may view the recording it was made from."""
    job = Job.objects.filter(pk=pk, kind__in=[derive.CLIP_JOB, derive.STILL_JOB]).first()
    if job is None:
        raise errors.NotFound("no such job")
    original = (
        Original.objects.filter(pk=job.params.get("original")).select_related("recording").first()
    )
    if original is None or not visible_recordings(user).filter(pk=original.recording_id).exists():
        raise errors.NotFound("no such job")
    check(user, Action.VIEW, original.recording, client=client)
    return job


# --- multi-camera offsets ------------------------------------------------------------------


def editable_offset(user: User, pk: int, client: Client | None) -> SyncOffset:
    """A pair's offset, if `user` may see and edit both recordings."""
    visible = visible_recordings(user)
    row = (
        SyncOffset.objects.select_related("reference__recording", "other__recording")
        .filter(reference__recording__in=visible, other__recording__in=visible, pk=pk)
        .first()
    )
    if row is None:
        raise errors.NotFound("no such sync offset")
    for original in (row.reference, row.other):
        check(user, Action.EDIT, original.recording, client=client)
    return row


def set_offset(
    user: User, row: SyncOffset, offset_s: float, note: str, client: Client | None
) -> SyncOffset:
    """Set a pair's offset by hand (`metadata-change`, with the note and the value it
    replaced). `row` comes from editable_offset()."""
    return offsets.save_manual(
        row, offset_s, username=user.get_username(), note=note, client=client
    )


def incident_recordings(user: User, pk: int) -> tuple[Incident, list[Recording]]:
    """An incident and those of its recordings `user` may view (NotFound if none)."""
    incident = Incident.objects.filter(pk=pk).first()
    recordings = (
        [
            r
            for r in visible_recordings(
                user,
                incident.recordings.select_related("officer", "device").order_by(
                    "trigger_on_at", "id"
                ),
            )
            if allowed(user, Action.VIEW, r)
        ]
        if incident is not None
        else []
    )
    if incident is None or not recordings:
        raise errors.NotFound("no such incident, or none of its recordings may be seen")
    return incident, recordings


def request_estimate(incident: Incident, recordings: list[Recording]) -> Job:
    """Queue the audio offset estimate for an incident's overlapping clips."""
    if len(recordings) < 2:
        raise errors.Invalid("at least two recordings are needed to compare")
    job = offsets.request_estimate(incident)
    if job is None:
        raise errors.Invalid("no two clips of this incident overlap in time")
    return job
