"""One periodic scheduler: every self-rescheduling job goes through overt.jobs.schedule."""

from __future__ import annotations

from pathlib import Path

import overt

SOURCE = Path(overt.__file__).resolve().parent


def test_only_the_jobs_app_sends_delayed_tasks() -> None:
    """A delayed run_job outside jobs/ is a second scheduler (three once drifted apart)."""
    senders = sorted(
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if "run_job.using(" in path.read_text() and path.parent.name != "jobs"
    )
    assert senders == []


def test_a_scheduled_run_carries_its_due_time(db: None) -> None:
    from overt.custody.jobs import CHECKPOINT_JOB, ensure_scheduled
    from overt.jobs.schedule import pending_run

    job = ensure_scheduled(CHECKPOINT_JOB)
    assert ensure_scheduled(CHECKPOINT_JOB).pk == job.pk == pending_run(CHECKPOINT_JOB).pk
    assert job.next_attempt_at is not None
    assert job.next_attempt_at.isoformat() == job.params["due"]
