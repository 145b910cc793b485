"""Scheduled custody work: checkpoints and the verify scrub.

Each run queues its own next one through the one periodic scheduler (overt.jobs.schedule):
checkpoints every ``OVERT_CHECKPOINT_INTERVAL_SECONDS``, the scrub every
``SCRUB_INTERVAL_SECONDS``. `overt custody schedule` starts both chains; it is safe to run
again, as it adds nothing while a run is already queued. A cron line calling
`overt custody checkpoint` and `overt verify` does the same job without the worker.
"""

from __future__ import annotations

import logging

from overt.conf import get_settings
from overt.jobs.models import Job
from overt.jobs.registry import JobContext, handles
from overt.jobs.schedule import ensure_scheduled as _ensure_scheduled
from overt.jobs.schedule import schedule_next, schedule_run

log = logging.getLogger(__name__)

CHECKPOINT_JOB = "custody.checkpoint"
SCRUB_JOB = "custody.scrub"
SCRUB_INTERVAL_SECONDS = 24 * 3600  # a full re-hash reads every object: daily


def interval(kind: str) -> float:
    if kind == CHECKPOINT_JOB:
        return float(get_settings().checkpoint_interval_seconds)
    return float(SCRUB_INTERVAL_SECONDS)


def schedule(kind: str, delay_s: float | None = None) -> Job:
    """Queue one run of ``kind`` after ``delay_s`` (default: its interval)."""
    return schedule_run(kind, interval(kind) if delay_s is None else delay_s)


def ensure_scheduled(kind: str) -> Job:
    """The pending run of ``kind``, queuing one if there is none."""
    return _ensure_scheduled(kind, interval(kind))


def _next(kind: str, ctx: JobContext) -> None:
    # Queue the next run before this one is marked done, so the chain never breaks.
    schedule_next(ctx, interval(kind))


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
