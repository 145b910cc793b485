"""The one scheduler for periodic jobs (custody checkpoints and scrub, the upload sweep,
the daily retention run).

The worker has no clock of its own, so a periodic job, when it runs, queues its own next
run with django-tasks' ``run_after`` before it does its work, so the chain never breaks.
Each run is a Job row of its own (subject ``due:<time>``), so the jobs list shows the
history, and its due time is kept in ``next_attempt_at`` so that a worker re-sending
stranded jobs never runs one early. A kind has at most one pending run: starting a chain
again adds nothing, and a re-sent run (a retry, or a take-over from a dead worker) does
not start a second chain.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction

from overt.conf import get_settings

from .models import Job
from .registry import JOB_KINDS, JobContext

PENDING = (Job.Status.QUEUED, Job.Status.RETRYING, Job.Status.RUNNING)


def schedule_run(kind: str, delay_s: float) -> Job:
    """Queue one run of ``kind`` due ``delay_s`` seconds from now."""
    from .services import dispatch

    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    due = datetime.now(UTC) + timedelta(seconds=max(0.0, delay_s))
    with transaction.atomic():
        job, created = Job.objects.get_or_create(
            key=f"{kind}:due:{due.isoformat(timespec='microseconds')}",
            defaults={
                "kind": kind,
                "params": {"due": due.isoformat()},
                "max_attempts": get_settings().job_max_attempts,
                "next_attempt_at": due,
            },
        )
        if created:
            transaction.on_commit(lambda: dispatch(job.pk, run_after=due), robust=True)
    return job


def pending_run(kind: str, *, excluding: int | None = None) -> Job | None:
    """The earliest pending run of ``kind`` (other than job ``excluding``), if any."""
    pending = Job.objects.filter(kind=kind, status__in=PENDING)
    if excluding is not None:
        pending = pending.exclude(pk=excluding)
    return pending.order_by("created_at", "id").first()


def ensure_scheduled(kind: str, delay_s: float) -> Job:
    """The pending run of ``kind``, queuing one after ``delay_s`` if there is none."""
    return pending_run(kind) or schedule_run(kind, delay_s)


def schedule_next(ctx: JobContext, delay_s: float) -> Job | None:
    """From inside a periodic run: queue the next one unless one is already pending."""
    if pending_run(ctx.kind, excluding=ctx.job_id) is not None:
        return None
    return schedule_run(ctx.kind, delay_s)
