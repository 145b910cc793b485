"""The daily retention job, run by the job worker.

Like the custody jobs, each run queues the next one (24 hours on) before it does its
work, so the chain never breaks; `overt retention schedule` starts it and is safe to run
again. A cron line calling `overt retention run` does the same without the worker.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction

from overt.conf import get_settings
from overt.jobs.models import Job
from overt.jobs.registry import JobContext, handles

log = logging.getLogger(__name__)

DAILY_JOB = "retention.daily"
INTERVAL = timedelta(days=1)
PENDING = (Job.Status.QUEUED, Job.Status.RETRYING, Job.Status.RUNNING)


def schedule(delay: timedelta = INTERVAL) -> Job:
    """Queue one run of the daily job after `delay`."""
    from overt.jobs.tasks import run_job

    due = datetime.now(UTC) + delay
    with transaction.atomic():
        job, created = Job.objects.get_or_create(
            key=f"{DAILY_JOB}:due:{due.isoformat(timespec='microseconds')}",
            defaults={
                "kind": DAILY_JOB,
                "params": {"due": due.isoformat()},
                "max_attempts": get_settings().job_max_attempts,
            },
        )
        if created:
            transaction.on_commit(lambda: run_job.using(run_after=due).enqueue(job.pk))
    return job


def ensure_scheduled() -> Job:
    """The pending daily run, queuing one (due now) if there is none."""
    pending = Job.objects.filter(kind=DAILY_JOB, status__in=PENDING).order_by("created_at")
    return pending.first() or schedule(timedelta(0))


@handles(DAILY_JOB)
def daily(ctx: JobContext) -> None:
    from .services import run_retention

    others = Job.objects.filter(kind=DAILY_JOB, status__in=PENDING).exclude(pk=ctx.job_id)
    if not others.exists():
        schedule()
    report = run_retention()
    summary = report.to_json()["summary"]
    failed = report.count("failed")
    if failed:
        log.error("retention run: %d purge(s) failed part-way; the next run retries", failed)
    ctx.progress(1.0, ", ".join(f"{k} {v}" for k, v in summary.items() if v))
