"""Queueing and running jobs on whichever django-tasks backend is configured."""

from __future__ import annotations

import logging
import time
import traceback
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from overt.conf import get_settings

from .models import Job
from .registry import JOB_KINDS, JobContext, handler_for

log = logging.getLogger(__name__)
PROGRESS_WRITE_INTERVAL_S = 0.5  # at most two progress writes a second per job
STALE_RUNNING_S = 600.0  # a running job silent this long lost its worker; take it over


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
        transaction.on_commit(lambda: _dispatch(job.pk))
    return job


def retry(job: Job) -> Job:
    """Run a failed job again from scratch (an operator's choice)."""
    updated = Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
        status=Job.Status.QUEUED, attempts=0, last_error="", progress=0.0, message=""
    )
    if updated:
        transaction.on_commit(lambda: _dispatch(job.pk))
    job.refresh_from_db()
    return job


def _dispatch(job_id: int, delay_s: float = 0.0) -> None:
    from .tasks import run_job

    task = run_job
    if delay_s > 0:
        task = run_job.using(run_after=timezone.now() + timedelta(seconds=delay_s))
    task.enqueue(job_id)


def redispatch_stranded(older_than_s: float = 300.0) -> int:
    """Re-send queued jobs whose message may have been lost (e.g. Redis restarted)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    stranded = list(
        Job.objects.filter(
            status__in=[Job.Status.QUEUED, Job.Status.RETRYING], updated_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for pk in stranded:
        _dispatch(pk)
    return len(stranded)


def run(job_id: int) -> str:
    """Run one attempt of a job; the task body on both engines. Returns the new status."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            log.warning("job %s no longer exists", job_id)
            return "missing"
        stale = timezone.now() - timedelta(seconds=STALE_RUNNING_S)
        if job.done or (job.status == Job.Status.RUNNING and job.updated_at > stale):
            return job.status  # a duplicate delivery: the work is done or under way
        job.status = Job.Status.RUNNING
        job.attempts += 1
        job.started_at = timezone.now()
        job.next_attempt_at = None
        job.save(
            update_fields=["status", "attempts", "started_at", "next_attempt_at", "updated_at"]
        )

    last_write = 0.0

    def report(fraction: float, message: str) -> None:
        nonlocal last_write
        now = time.monotonic()
        if now - last_write < PROGRESS_WRITE_INTERVAL_S and fraction < 1.0:
            return
        last_write = now
        Job.objects.filter(pk=job_id).update(
            progress=fraction, message=message[:500], updated_at=timezone.now()
        )

    ctx = JobContext(job.pk, job.kind, job.params, job.attempts, report)
    try:
        handler_for(job.kind)(ctx)
    except Exception as exc:
        return _failed(job, exc)
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        last_error="",
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    _count(job.kind, "succeeded")
    return Job.Status.SUCCEEDED


def _failed(job: Job, exc: Exception) -> str:
    detail = "".join(traceback.format_exception_only(exc)).strip()
    log.warning("job %s attempt %s failed: %s", job.key, job.attempts, detail)
    _count(job.kind, "failed-attempt")
    if job.attempts >= job.max_attempts:
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            last_error=detail,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        _count(job.kind, "failed")
        return Job.Status.FAILED
    delay = get_settings().job_backoff_seconds * (2 ** (job.attempts - 1))
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RETRYING,
        last_error=detail,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        updated_at=timezone.now(),
    )
    _dispatch(job.pk, delay)
    return Job.Status.RETRYING


def _count(kind: str, outcome: str) -> None:
    from overt.ops.metrics import JOBS

    JOBS.labels(kind=kind, outcome=outcome).inc()
