"""`overt jobs`: see and steer background work, with Rich progress bars."""

from __future__ import annotations

import json
from typing import Any

import click

from .bootstrap import setup


@click.group()
def jobs() -> None:
    """Background jobs (derivatives, ...)."""


@jobs.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--status", help="Only jobs in this status.")
def jobs_list(as_json: bool, status: str | None) -> None:
    """List jobs with their progress, attempts (a lost one included), worker and last error."""
    setup()
    from overt.jobs.models import Job

    rows = Job.objects.all()
    if status:
        rows = rows.filter(status=status)
    data: list[dict[str, Any]] = [
        {
            "id": j.pk,
            "kind": j.kind,
            "key": j.key,
            "status": j.status,
            "progress": round(j.progress, 3),
            "attempts": j.attempts,
            "max_attempts": j.max_attempts,
            "worker": j.worker,
            "message": j.message,
            "last_error": j.last_error,
        }
        for j in rows[:500]
    ]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for j in data:
        click.echo(
            f"{j['id']:>6} {j['status']:<10} {j['progress'] * 100:5.1f}%  "
            f"{j['attempts']}/{j['max_attempts']}  {j['key']}  {j['last_error'][:80]}"
        )


@jobs.command("retry")
@click.argument("job_id", type=int)
def jobs_retry(job_id: int) -> None:
    """Run a failed job again."""
    setup()
    from overt.jobs.models import Job
    from overt.jobs.services import retry

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise click.ClickException(f"no job {job_id}")
    if job.status != Job.Status.FAILED:
        raise click.ClickException(f"job {job_id} is {job.status}, not failed")
    retry(job)
    click.echo(f"job {job_id} queued again")


@jobs.command("run")
def jobs_run() -> None:
    """Run queued jobs in this process until none are left, showing progress."""
    setup()
    drain_with_progress()


def drain_with_progress() -> None:
    """Work through the queue in this process, with a Rich progress bar.

    Delivery by the worker later finds these jobs done and skips them (jobs are idempotent).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from overt.jobs.models import Job
    from overt.jobs.services import run
    from overt.jobs.worker import foreground_heartbeat

    waiting = [Job.Status.QUEUED, Job.Status.RETRYING]
    with foreground_heartbeat(), Progress(
        TextColumn("{task.description:<48}"), BarColumn(), MofNCompleteColumn()
    ) as progress:
        bar = progress.add_task("jobs", total=Job.objects.filter(status__in=waiting).count())
        while pending := list(
            Job.objects.filter(status__in=waiting).order_by("id").values_list("pk", "key")
        ):
            progress.update(bar, total=progress.tasks[0].completed + len(pending))
            for pk, key in pending:
                progress.update(bar, description=key)
                outcome = run(pk)
                if outcome in (Job.Status.SUCCEEDED, Job.Status.FAILED):
                    progress.advance(bar)
        progress.update(bar, description="jobs done")
