"""What the recording page and the API say about each original: its derivatives (or
the jobs making them) and where each marker falls in which clip."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from overt.evidence.models import Derivative, Marker, Original
from overt.jobs.models import Job
from overt.media.pipeline import DERIVATIVE_JOBS


@dataclass(frozen=True, slots=True)
class DerivativeStatus:
    kind: str
    label: str
    derivative: Derivative | None
    job: Job | None


@dataclass(frozen=True, slots=True)
class ClipPosition:
    original: Original
    offset_s: float  # from the clip's own start, which is what the player seeks in


def job_key(kind: str, original_id: int) -> str:
    return f"{DERIVATIVE_JOBS[kind]}:original:{original_id}"


def job_subject(job: Job) -> str:
    """What the job works on, e.g. "original:12" (a job's key is "kind:subject")."""
    return job.key.removeprefix(f"{job.kind}:")


def jobs_for(original_ids: Iterable[int]) -> list[Job]:
    """The derivative jobs of these originals, in one query."""
    keys = [job_key(kind, pk) for pk in original_ids for kind in DERIVATIVE_JOBS]
    return list(Job.objects.filter(key__in=keys).order_by("id"))


def jobs_by_original(original_ids: Iterable[int]) -> dict[int, list[Job]]:
    ids = list(original_ids)
    grouped: dict[int, list[Job]] = {pk: [] for pk in ids}
    for job in jobs_for(ids):
        grouped[int(job_subject(job).removeprefix("original:"))].append(job)
    return grouped


def derivative_statuses(originals: Sequence[Original]) -> dict[int, list[DerivativeStatus]]:
    """For each original: every kind the pipeline makes (the stored one, else its job),
    then any other derivatives it has, such as redacted copies."""
    ids = [o.pk for o in originals]
    labels = dict(Derivative.Kind.choices)
    made: dict[int, list[Derivative]] = {pk: [] for pk in ids}
    for derivative in Derivative.objects.filter(original_id__in=ids).order_by("id"):
        made[derivative.original_id].append(derivative)
    jobs = {job.key: job for job in jobs_for(ids)}
    statuses: dict[int, list[DerivativeStatus]] = {}
    for pk in ids:
        by_kind = {d.kind: d for d in made[pk]}
        statuses[pk] = [
            DerivativeStatus(
                kind,
                str(labels.get(kind, kind)),
                by_kind.get(kind),
                None if kind in by_kind else jobs.get(job_key(kind, pk)),
            )
            for kind in DERIVATIVE_JOBS
        ]
        statuses[pk] += [
            DerivativeStatus(d.kind, str(labels.get(d.kind, d.kind)), d, None)
            for d in made[pk]
            if d.kind not in DERIVATIVE_JOBS
        ]
    return statuses


def clip_position(marker: Marker, originals: Sequence[Original]) -> ClipPosition | None:
    """The clip that was recording at the marker's moment, and how far into it."""
    for original in originals:
        if original.started_at is None:
            continue
        length = original.duration_s
        if length is None and original.stopped_at is not None:
            length = (original.stopped_at - original.started_at).total_seconds()
        end = original.started_at + timedelta(seconds=length or 0)
        if original.started_at <= marker.at <= end:
            return ClipPosition(original, (marker.at - original.started_at).total_seconds())
    return None
