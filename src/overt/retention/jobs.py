"""The daily retention job, run by the job worker.

Each run queues the next one (24 hours on) before it does its work, through the one
periodic scheduler (overt.jobs.schedule); `overt retention schedule` starts it and is safe
to run again. A cron line calling `overt retention run` does the same without the worker.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from overt.jobs.models import Job
from overt.jobs.registry import JobContext, handles
from overt.jobs.schedule import ensure_scheduled as _ensure_scheduled
from overt.jobs.schedule import schedule_next, schedule_run

log = logging.getLogger(__name__)

DAILY_JOB = "retention.daily"
INTERVAL = timedelta(days=1)


def schedule(delay: timedelta = INTERVAL) -> Job:
    """Queue one run of the daily job after `delay`."""
    return schedule_run(DAILY_JOB, delay.total_seconds())


def ensure_scheduled() -> Job:
    """The pending daily run, queuing one (due now) if there is none."""
    return _ensure_scheduled(DAILY_JOB, 0.0)


@handles(DAILY_JOB)
def daily(ctx: JobContext) -> None:
    from .services import run_retention

    schedule_next(ctx, INTERVAL.total_seconds())
    report = run_retention()
    summary = report.to_json()["summary"]
    failed = report.count("failed")
    if failed:
        log.error("retention run: %d purge(s) failed part-way; the next run retries", failed)
    ctx.progress(1.0, ", ".join(f"{k} {v}" for k, v in summary.items() if v))
