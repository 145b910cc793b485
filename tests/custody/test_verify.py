"""`overt verify` in process: objects and log on both engines, the recorded outcome, and
the scheduled checkpoint and scrub jobs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import transaction

from overt.custody.jobs import CHECKPOINT_JOB, SCRUB_JOB, ensure_scheduled, schedule
from overt.custody.models import Checkpoint, CustodyEntry, VerifyRun
from overt.custody.services import Actor, Subject, record
from overt.custody.verify import PROBLEM_KINDS, run_checks, verify_instance
from overt.evidence.models import Original
from overt.evidence.store import get_store
from overt.ingest.services import ingest_file
from overt.jobs import services as jobs
from overt.jobs.models import Job

pytestmark = pytest.mark.scaled


@pytest.fixture
def exhibit(people, unique_bytes: Callable[[int], bytes], tmp_path: Path) -> Original:  # type: ignore[no-untyped-def]
    """An original of this test's own bytes (not playable, so no derivative jobs)."""
    path = tmp_path / "exhibit.mp4"
    path.write_bytes(unique_bytes(20_000))
    result = ingest_file(path, officer_number="MP100", device_serial="CAM-1")
    return Original.objects.get(pk=result.id)


def test_a_sound_instance_passes_and_the_run_is_kept_and_logged(exhibit: Original) -> None:
    from overt.custody.checkpoints import issue_checkpoint

    issue_checkpoint()
    result, run = verify_instance()
    assert result.ok and result.problems == []
    assert result.to_json()["summary"] == {
        "log_only": False,
        "entries": 1,
        "root": result.root,
        "checkpoints": 1,
        "originals": 1,
        "derivatives": 0,
    }
    assert (run.ok, run.trigger, run.entries, run.objects_checked) == (True, "cli", 1, 1)
    logged = CustodyEntry.objects.get(index=run.entry_index)
    body = json.loads(logged.entry)
    assert body["action"] == "verify" and body["actor"] == {"kind": "system", "id": "verify-cli"}
    assert body["details"]["ok"] is True and body["details"]["run"] == run.pk
    assert body["details"]["entries_checked"] == 1 and body["details"]["problems"] == 0


def test_a_catalogued_object_missing_from_the_store_is_named(exhibit: Original) -> None:
    ghost = "0123456789abcdef" * 4
    Original.objects.filter(pk=exhibit.pk).update(sha256=ghost)
    result, run = verify_instance()
    [problem] = result.problems
    assert problem.kind == "object-missing"
    assert problem.where == f"original {exhibit.pk} at {get_store().location(ghost)}"
    assert run.ok is False and run.problems == [
        {"kind": problem.kind, "where": problem.where, "detail": problem.detail}
    ]
    body = json.loads(CustodyEntry.objects.get(index=run.entry_index).entry)
    assert body["details"]["problem_kinds"] == ["object-missing"]


def test_a_wrong_catalogue_size_is_named(exhibit: Original) -> None:
    Original.objects.filter(pk=exhibit.pk).update(size=exhibit.size + 1)
    [problem] = run_checks().problems
    assert problem.kind == "object-size-mismatch" and problem.where.startswith(
        f"original {exhibit.pk} at "
    )


def test_log_only_skips_the_objects(exhibit: Original) -> None:
    Original.objects.filter(pk=exhibit.pk).update(sha256="f" * 64)
    result = run_checks(log_only=True)
    assert result.ok and result.originals == 0 and result.log_only


def test_a_log_head_that_overcounts_is_named(db: None) -> None:
    from overt.custody.models import CustodyHead

    with transaction.atomic():
        record("login", Actor("user", "alice"))
    CustodyHead.objects.update(size=3)
    problems = {(p.kind, p.where) for p in run_checks(log_only=True).problems}
    assert problems == {("entry-missing", "entries 1 to 2")}


def test_every_problem_kind_is_explained_in_the_docs() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "custody.md").read_text("utf-8")
    for kind in PROBLEM_KINDS:
        assert f"`{kind}`" in docs, f"docs/custody.md does not explain {kind}"


# --- scheduled jobs ---------------------------------------------------------------------------


def test_checkpoint_job_signs_and_schedules_its_next_run(db: None, settings_env) -> None:  # type: ignore[no-untyped-def]
    settings_env(checkpoint_interval_seconds=120)
    with transaction.atomic():
        record("view", Actor("user", "alice"), Subject("ab" * 32), justification="check")
    job = schedule(CHECKPOINT_JOB, delay_s=0)
    assert jobs.run(job.pk) == Job.Status.SUCCEEDED
    assert Checkpoint.objects.get().size == 1
    [following] = Job.objects.filter(kind=CHECKPOINT_JOB, status=Job.Status.QUEUED)
    due = datetime.fromisoformat(following.params["due"])
    assert timedelta(seconds=100) < due - datetime.now(UTC) <= timedelta(seconds=120)
    assert ensure_scheduled(CHECKPOINT_JOB).pk == following.pk  # one chain, not two


def test_scrub_job_verifies_logs_and_keeps_its_result(exhibit: Original) -> None:
    job = schedule(SCRUB_JOB, delay_s=0)
    assert jobs.run(job.pk) == Job.Status.SUCCEEDED
    run = VerifyRun.objects.get()
    assert (run.trigger, run.ok, run.log_only, run.objects_checked) == ("scrub", True, False, 1)
    body = json.loads(CustodyEntry.objects.get(index=run.entry_index).entry)
    assert body["action"] == "verify" and body["actor"] == {"kind": "system", "id": "scrub"}
    assert Job.objects.filter(kind=SCRUB_JOB, status=Job.Status.QUEUED).count() == 1
    assert "no problems" in Job.objects.get(pk=job.pk).message


def test_scrub_job_that_finds_a_problem_records_it(exhibit: Original) -> None:
    Original.objects.filter(pk=exhibit.pk).update(sha256="e" * 64)
    job = schedule(SCRUB_JOB, delay_s=0)
    assert jobs.run(job.pk) == Job.Status.SUCCEEDED  # the job ran; its finding is the result
    run = VerifyRun.objects.get()
    assert run.ok is False and run.problems[0]["kind"] == "object-missing"
    assert "1 problem(s) found" in Job.objects.get(pk=job.pk).message


def test_the_next_run_is_handed_to_the_task_backend_with_run_after(
    db: None, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = schedule(CHECKPOINT_JOB, delay_s=3600)
    assert len(callbacks) == 1
    due = datetime.fromisoformat(job.params["due"])
    if settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend":
        from django_tasks_db.models import DBTaskResult

        [task] = DBTaskResult.objects.all()
        assert task.run_after == due and task.args_kwargs["args"] == [job.pk]
