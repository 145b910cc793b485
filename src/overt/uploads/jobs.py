"""The upload sweep: expire abandoned tus uploads (logging each expiry in the custody log),
finish complete uploads that a stopped server left unfinished, remove orphaned files.

Like the custody jobs, each run queues the next: at the earliest expiry among the uploads
still in progress (at least a minute, at most an hour away). Creating an upload starts
the chain when none is pending; with no uploads in progress the chain stops.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction

from overt.conf import get_settings
from overt.jobs.models import Job
from overt.jobs.registry import JobContext, handles

log = logging.getLogger(__name__)

EXPIRE_JOB = "uploads.expire"
PENDING = (Job.Status.QUEUED, Job.Status.RETRYING, Job.Status.RUNNING)
MIN_DELAY_S = 60.0
MAX_DELAY_S = 3600.0


def schedule_expiry(delay_s: float) -> Job:
    from overt.jobs.tasks import run_job

    due = datetime.now(UTC) + timedelta(seconds=delay_s)
    with transaction.atomic():
        job, created = Job.objects.get_or_create(
            key=f"{EXPIRE_JOB}:due:{due.isoformat(timespec='microseconds')}",
            defaults={
                "kind": EXPIRE_JOB,
                "params": {"due": due.isoformat()},
                "max_attempts": get_settings().job_max_attempts,
            },
        )
        if created:
            transaction.on_commit(lambda: run_job.using(run_after=due).enqueue(job.pk))
    return job


def ensure_expiry_scheduled() -> None:
    if not Job.objects.filter(kind=EXPIRE_JOB, status__in=PENDING).exists():
        schedule_expiry(_delay())


def _delay() -> float:
    from .services import next_expiry

    soonest = next_expiry()
    if soonest is None:
        return MAX_DELAY_S
    wait = (soonest - datetime.now(UTC)).total_seconds() + 1
    return min(MAX_DELAY_S, max(MIN_DELAY_S, wait))


@handles(EXPIRE_JOB)
def expire_job(ctx: JobContext) -> None:
    from .services import expire_due, next_expiry

    counts = expire_due()
    pending = Job.objects.filter(kind=EXPIRE_JOB, status__in=PENDING).exclude(pk=ctx.job_id)
    if next_expiry() is not None and not pending.exists():
        schedule_expiry(_delay())
    if counts["expired"]:
        log.info("expired %d abandoned upload(s)", counts["expired"])
    ctx.progress(
        1.0,
        f"expired {counts['expired']}, finished {counts['finished']}, "
        f"removed {counts['orphans']} orphan file(s)",
    )
