"""Scheduled custody work: checkpoints and the verify scrub.

The job worker has no clock of its own, so each of these jobs, when it has run, queues its
own next run with django-tasks' ``run_after``: checkpoints every
``OVERT_CHECKPOINT_INTERVAL_SECONDS``, the scrub every ``SCRUB_INTERVAL_SECONDS``. Each
run is a Job row of its own (subject ``due:<time>``), so the jobs list shows the history.
`overt custody schedule` starts both chains; it is safe to run again, as it adds nothing
while a run is already queued. A cron line calling `overt custody checkpoint` and
`overt verify` does the same job without the worker.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction

from overt.conf import get_settings
from overt.jobs.models import Job
from overt.jobs.registry import JobContext, handles

log = logging.getLogger(__name__)

CHECKPOINT_JOB = "custody.checkpoint"
SCRUB_JOB = "custody.scrub"
SCRUB_INTERVAL_SECONDS = 24 * 3600  # a full re-hash reads every object: daily
PENDING = (Job.Status.QUEUED, Job.Status.RETRYING, Job.Status.RUNNING)


def interval(kind: str) -> float:
    if kind == CHECKPOINT_JOB:
        return float(get_settings().checkpoint_interval_seconds)
    return float(SCRUB_INTERVAL_SECONDS)


def schedule(kind: str, delay_s: float | None = None) -> Job:
    """Queue one run of ``kind`` after ``delay_s`` (default: its interval)."""
    from overt.jobs.tasks import run_job

    due = datetime.now(UTC) + timedelta(seconds=interval(kind) if delay_s is None else delay_s)
    with transaction.atomic():
        job, created = Job.objects.get_or_create(
            key=f"{kind}:due:{due.isoformat(timespec='microseconds')}",
            defaults={
                "kind": kind,
                "params": {"due": due.isoformat()},
                "max_attempts": get_settings().job_max_attempts,
            },
        )
        if created:
            transaction.on_commit(lambda: run_job.using(run_after=due).enqueue(job.pk))
    return job


def ensure_scheduled(kind: str) -> Job:
    """The pending run of ``kind``, queuing one if there is none."""
    pending = Job.objects.filter(kind=kind, status__in=PENDING).order_by("created_at").first()
    return pending or schedule(kind)


def _next(kind: str, ctx: JobContext) -> None:
    # Queue the next run before this one is marked done, so the chain never breaks; a
    # retry of this attempt must not add a second chain.
    pending = Job.objects.filter(kind=kind, status__in=PENDING).exclude(pk=ctx.job_id)
    if not pending.exists():
        schedule(kind)


@handles(CHECKPOINT_JOB)
def checkpoint_job(ctx: JobContext) -> None:
    from .checkpoints import issue_checkpoint

    _next(CHECKPOINT_JOB, ctx)
    cp = issue_checkpoint()
    ctx.progress(1.0, f"checkpoint at size {cp.size}")


@handles(SCRUB_JOB)
def scrub_job(ctx: JobContext) -> None:
    from .models import VerifyRun
    from .services import Actor
    from .verify import verify_instance

    _next(SCRUB_JOB, ctx)
    result, run = verify_instance(
        trigger=VerifyRun.Trigger.SCRUB, actor=Actor.system("scrub")
    )
    if result.ok:
        ctx.progress(1.0, f"verified: no problems (run {run.pk})")
    else:
        # The job itself succeeded: the finding is the result. It is kept in VerifyRun
        # and in the custody log; the log line makes it visible to operators too.
        log.error(
            "custody scrub found %d problem(s); see verify run %s", len(result.problems), run.pk
        )
        ctx.progress(1.0, f"{len(result.problems)} problem(s) found (run {run.pk})")
