"""The upload sweep: expire abandoned tus uploads (logging each expiry in the custody log),
finish complete uploads that a stopped server left unfinished, remove orphaned files.

Each run queues the next through the one periodic scheduler (overt.jobs.schedule): at the
earliest expiry among the uploads still in progress (at least a minute, at most an hour
away). Creating an upload starts the chain when none is pending; with no uploads in
progress the chain stops.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from overt.jobs.models import Job
from overt.jobs.registry import JobContext, handles
from overt.jobs.schedule import pending_run, schedule_next, schedule_run

log = logging.getLogger(__name__)

EXPIRE_JOB = "uploads.expire"
MIN_DELAY_S = 60.0
MAX_DELAY_S = 3600.0


def schedule_expiry(delay_s: float) -> Job:
    return schedule_run(EXPIRE_JOB, delay_s)


def ensure_expiry_scheduled() -> None:
    if pending_run(EXPIRE_JOB) is None:
        schedule_expiry(_delay())


def _delay() -> float:
    from .sweep import next_expiry

    soonest = next_expiry()
    if soonest is None:
        return MAX_DELAY_S
    wait = (soonest - datetime.now(UTC)).total_seconds() + 1
    return min(MAX_DELAY_S, max(MIN_DELAY_S, wait))


@handles(EXPIRE_JOB)
def expire_job(ctx: JobContext) -> None:
    from .sweep import expire_due, next_expiry

    counts = expire_due()
    if next_expiry() is not None:
        schedule_next(ctx, _delay())
    if counts["expired"]:
        log.info("expired %d abandoned upload(s)", counts["expired"])
    ctx.progress(
        1.0,
        f"expired {counts['expired']}, finished {counts['finished']}, "
        f"removed {counts['orphans']} orphan file(s)",
    )
