"""An attempt that was taken over writes nothing more, and `overt jobs run` keeps its jobs.

A job taken over while its first runner was in fact still alive must not end up with two
writers: the old attempt's progress, success or failure never overwrites the row of the
attempt that took over. And a job run in the foreground (`overt jobs run`, the demo) has
a heartbeat of its own, so a long job that reports no progress is not taken over while
that process lives. No timed assertions: the stale threshold is short, polls are bounded.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from overt.jobs import registry
from overt.jobs.models import Job, WorkerHeartbeat
from overt.jobs.services import run, stale_running, take_over_stale

LIMIT_S = 60.0  # an upper bound on waiting for the heartbeat thread, never a speed claim
KIND = "custody.checkpoint"


def _queued_job() -> Job:
    return Job.objects.create(kind=KIND, key=f"{KIND}:test:{uuid.uuid4().hex}")


def _go_silent(job_id: int) -> None:
    """Make the job look silent for an hour, as a long job without progress does."""
    Job.objects.filter(pk=job_id).update(updated_at=timezone.now() - timedelta(hours=1))


def _second_worker_claims(job_id: int) -> None:
    """What run() writes when another worker starts the re-sent attempt."""
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.RUNNING,
        attempts=2,
        worker="second-worker",
        progress=0.25,
        message="second attempt under way",
    )


def _taken_over_mid_job(then: Callable[[registry.JobContext], None]) -> registry.Handler:
    def handler(ctx: registry.JobContext) -> None:
        _go_silent(ctx.job_id)
        assert take_over_stale() == 1  # the first runner looked dead, but is not
        _second_worker_claims(ctx.job_id)
        then(ctx)

    return handler


def _second_attempt_untouched(job: Job) -> None:
    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker) == (Job.Status.RUNNING, 2, "second-worker")
    assert (job.progress, job.message) == (0.25, "second attempt under way")
    assert job.finished_at is None


@pytest.mark.django_db(transaction=True)
def test_a_taken_over_attempt_does_not_mark_the_new_attempt_succeeded(
    settings_env, monkeypatch, caplog
) -> None:
    settings_env(job_stale_seconds=5)
    monkeypatch.setitem(registry._HANDLERS, KIND, _taken_over_mid_job(lambda ctx: None))
    job = _queued_job()

    assert run(job.pk) == "taken-over"
    _second_attempt_untouched(job)
    assert "was taken over" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_taken_over_attempt_stops_at_its_next_progress_report(
    settings_env, monkeypatch
) -> None:
    settings_env(job_stale_seconds=5)
    reached: list[str] = []

    def report_then_carry_on(ctx: registry.JobContext) -> None:
        ctx.progress(0.9, "first attempt nearly done")
        reached.append("after the report")  # the duplicate work the report must stop

    monkeypatch.setitem(registry._HANDLERS, KIND, _taken_over_mid_job(report_then_carry_on))
    job = _queued_job()

    assert run(job.pk) == "taken-over"
    assert reached == []
    _second_attempt_untouched(job)


@pytest.mark.django_db(transaction=True)
def test_a_taken_over_attempt_that_fails_does_not_fail_or_resend_the_job(
    settings_env, monkeypatch
) -> None:
    settings_env(job_stale_seconds=5, job_max_attempts=1)

    def fail(ctx: registry.JobContext) -> None:
        raise RuntimeError("first attempt broke")

    monkeypatch.setitem(registry._HANDLERS, KIND, _taken_over_mid_job(fail))
    job = _queued_job()
    Job.objects.filter(pk=job.pk).update(max_attempts=5)  # the take-over re-sends it

    assert run(job.pk) == "taken-over"
    _second_attempt_untouched(job)
    job.refresh_from_db()
    assert "first attempt broke" not in job.last_error


@pytest.mark.django_db(transaction=True)
def test_a_job_run_in_the_foreground_has_a_heartbeat_and_is_not_taken_over(
    settings_env, monkeypatch
) -> None:
    from overt.cli.jobs import drain_with_progress

    settings_env(job_stale_seconds=2)  # heartbeat every half second
    seen: dict[str, object] = {}

    def long_silent_job(ctx: registry.JobContext) -> None:
        worker = Job.objects.get(pk=ctx.job_id).worker
        beat = WorkerHeartbeat.objects.filter(worker_id=worker).first()
        assert beat is not None, f"no heartbeat for the foreground runner {worker!r}"
        # It keeps beating while the job runs, however long the job is silent.
        deadline = time.monotonic() + LIMIT_S
        while not WorkerHeartbeat.objects.filter(
            worker_id=worker, seen_at__gt=beat.seen_at
        ).exists():
            assert time.monotonic() < deadline, "the foreground heartbeat never beat again"
            time.sleep(0.1)
        _go_silent(ctx.job_id)
        seen["stale"] = stale_running().filter(pk=ctx.job_id).exists()
        seen["taken"] = take_over_stale()
        seen["worker"] = worker

    monkeypatch.setitem(registry._HANDLERS, KIND, long_silent_job)
    job = _queued_job()

    drain_with_progress()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.last_error
    assert job.attempts == 1
    assert (seen["stale"], seen["taken"]) == (False, 0)
    # Once the run is over its heartbeat goes, so /healthz never counts it as a worker.
    assert not WorkerHeartbeat.objects.filter(worker_id=seen["worker"]).exists()
