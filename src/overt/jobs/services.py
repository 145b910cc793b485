"""Queueing and running jobs on whichever django-tasks backend is configured."""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from overt.conf import get_settings

from .models import Job, WorkerHeartbeat
from .registry import JOB_KINDS, JobContext, handler_for

log = logging.getLogger(__name__)
PROGRESS_WRITE_INTERVAL_S = 0.5  # at most two progress writes a second per job

# Who runs jobs in this process: the id whose heartbeat keeps its jobs from being taken
# over, set by run_worker() and by `overt jobs run` (see worker.foreground_heartbeat()).
# Without a heartbeat only the job's own progress writes keep it from being taken over.
_worker_id = f"{socket.gethostname()}-{os.getpid()}"


class AttemptTakenOver(Exception):
    """This attempt was taken over (its worker looked dead); its writes must stop."""


def set_worker_id(worker_id: str) -> str:
    """Name this process's runner; returns the name it replaces."""
    global _worker_id
    previous, _worker_id = _worker_id, worker_id
    return previous


def enqueue(kind: str, subject: str, params: dict[str, Any] | None = None) -> Job:
    """Queue `kind` for `subject` once. Safe inside a transaction: dispatch waits for commit."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job, created = Job.objects.get_or_create(
        key=f"{kind}:{subject}",
        defaults={
            "kind": kind,
            "params": params or {},
            "max_attempts": get_settings().job_max_attempts,
        },
    )
    if created:
        transaction.on_commit(lambda: _dispatch(job.pk), robust=True)
    return job


def retry(job: Job) -> Job:
    """Run a failed job again from scratch (an operator's choice)."""
    updated = Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
        status=Job.Status.QUEUED, attempts=0, last_error="", progress=0.0, message=""
    )
    if updated:
        transaction.on_commit(lambda: _dispatch(job.pk), robust=True)
    job.refresh_from_db()
    return job


def _dispatch(job_id: int, delay_s: float = 0.0) -> None:
    dispatch(job_id, run_after=timezone.now() + timedelta(seconds=delay_s) if delay_s > 0 else None)


def dispatch(job_id: int, run_after: datetime | None = None) -> None:
    """Send job `job_id` to the worker queue now, or to run at `run_after`."""
    from .tasks import run_job

    task = run_job
    if run_after is not None and run_after > timezone.now():
        task = run_job.using(run_after=run_after)
    task.enqueue(job_id)


def redispatch_stranded(older_than_s: float = 300.0) -> int:
    """Re-send waiting jobs whose message may have been lost (e.g. Redis restarted).

    A job due later (a scheduled run, a retry after backoff) is sent for its due time,
    never early; a duplicate message finds the job done or running and does nothing.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    stranded = list(
        Job.objects.filter(
            status__in=[Job.Status.QUEUED, Job.Status.RETRYING], updated_at__lt=cutoff
        ).values_list("pk", "next_attempt_at")
    )
    for pk, due in stranded:
        dispatch(pk, run_after=due)
    return len(stranded)


def stale_running() -> QuerySet[Job]:
    """Running jobs whose worker is silent: no heartbeat, and no progress from the job,
    for OVERT_JOB_STALE_SECONDS. Their worker died (kill -9, power cut, OOM) mid-job."""
    cutoff = timezone.now() - timedelta(seconds=get_settings().job_stale_seconds)
    alive = WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).values("worker_id")
    return Job.objects.filter(status=Job.Status.RUNNING, updated_at__lt=cutoff).exclude(
        worker__in=alive
    )


def take_over_stale() -> int:
    """Send every stale running job again; returns how many were taken over.

    The lost attempt counts, so a job that kills its worker every time (say, out of
    memory) ends up failed instead of looping. Each take-over is a compare-and-set on
    the row, so of several workers doing this at once only one re-sends a job.
    """
    taken = 0
    for job in stale_running():
        note = (
            f"attempt {job.attempts} lost: worker {job.worker or '(unknown)'} went silent; "
            "taken over"
        )
        now = timezone.now()
        last = job.attempts >= job.max_attempts
        won = Job.objects.filter(
            pk=job.pk, status=Job.Status.RUNNING, updated_at=job.updated_at
        ).update(
            status=Job.Status.FAILED if last else Job.Status.RETRYING,
            message=note[:500],
            last_error=note,
            next_attempt_at=None if last else now,
            finished_at=now if last else None,
            updated_at=now,
        )
        if not won:
            continue  # another worker took it over, or its worker spoke after all
        taken += 1
        log.warning("job %s: %s", job.key, note)
        _count(job.kind, "failed" if last else "failed-attempt")
        if not last:
            dispatch(job.pk)
    return taken


def run(job_id: int) -> str:
    """Run one attempt of a job; the task body on both engines. Returns the new status."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            log.warning("job %s no longer exists", job_id)
            return "missing"
        if job.done:
            return job.status  # a duplicate delivery: the work is done
        if job.status == Job.Status.RUNNING:
            if not stale_running().filter(pk=job.pk).exists():
                return job.status  # a duplicate delivery: the work is under way
            if job.attempts >= job.max_attempts:
                return job.status  # its last attempt was lost: take_over_stale() fails it
        job.status = Job.Status.RUNNING
        job.attempts += 1
        job.worker = _worker_id[:100]
        job.started_at = timezone.now()
        job.next_attempt_at = None
        job.save(
            update_fields=[
                "status",
                "attempts",
                "worker",
                "started_at",
                "next_attempt_at",
                "updated_at",
            ]
        )

    last_write = 0.0

    def report(fraction: float, message: str) -> None:
        nonlocal last_write
        now = time.monotonic()
        if now - last_write < PROGRESS_WRITE_INTERVAL_S and fraction < 1.0:
            return
        last_write = now
        if not _this_attempt(job).update(
            progress=fraction, message=message[:500], updated_at=timezone.now()
        ):
            raise AttemptTakenOver  # stops the handler: another attempt does the work now

    ctx = JobContext(job.pk, job.kind, job.params, job.attempts, report)
    try:
        handler_for(job.kind)(ctx)
    except AttemptTakenOver:
        return _taken_over(job)
    except Exception as exc:
        return _failed(job, exc)
    if not _this_attempt(job).update(
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        last_error="",
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    ):
        return _taken_over(job)
    _count(job.kind, "succeeded")
    return Job.Status.SUCCEEDED


def _this_attempt(job: Job) -> QuerySet[Job]:
    """The job's row while this attempt still owns it. Once take_over_stale() has moved it
    on (and perhaps another worker started a new attempt), this matches nothing, so the
    old attempt's writes can never overwrite the new attempt's state."""
    return Job.objects.filter(
        pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts, worker=job.worker
    )


def _taken_over(job: Job) -> str:
    log.warning(
        "job %s attempt %s (worker %s) was taken over; its outcome is dropped",
        job.key,
        job.attempts,
        job.worker,
    )
    return "taken-over"


def _failed(job: Job, exc: Exception) -> str:
    detail = "".join(traceback.format_exception_only(exc)).strip()
    log.warning("job %s attempt %s failed: %s", job.key, job.attempts, detail)
    if job.attempts >= job.max_attempts:
        if not _this_attempt(job).update(
            status=Job.Status.FAILED,
            last_error=detail,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        ):
            return _taken_over(job)
        _count(job.kind, "failed-attempt")
        _count(job.kind, "failed")
        return Job.Status.FAILED
    delay = get_settings().job_backoff_seconds * (2 ** (job.attempts - 1))
    if not _this_attempt(job).update(
        status=Job.Status.RETRYING,
        last_error=detail,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        updated_at=timezone.now(),
    ):
        return _taken_over(job)
    _count(job.kind, "failed-attempt")
    _dispatch(job.pk, delay)
    return Job.Status.RETRYING


def _count(kind: str, outcome: str) -> None:
    from overt.metrics import JOBS

    JOBS.labels(kind=kind, outcome=outcome).inc()
