"""`overt verify` in process: objects and log on both engines, the recorded outcome, and
the scheduled checkpoint and scrub jobs."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
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

# Database tests here run on both engines by folder (overt.testing.engines); the ones
# that touch no engine run once.


@pytest.fixture
def own_store(settings_env, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A store of this test's own (a new prefix on S3), since `overt verify` also lists
    store objects that nothing catalogues, and the session's store holds other tests'."""
    from overt.conf import get_settings

    current = get_settings().store_location
    if current.startswith("s3://"):
        base, _, query = current.partition("?")
        url = f"{base.rstrip('/')}/verify-{uuid.uuid4().hex}" + (f"?{query}" if query else "")
    else:
        url = (tmp_path / "store").as_uri()
    settings_env(store_url=url)
    get_store.cache_clear()
    yield url
    get_store.cache_clear()


@pytest.fixture
def exhibit(people, own_store: str, unique_bytes: Callable[[int], bytes], tmp_path: Path) -> Original:  # type: ignore[no-untyped-def]
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
    problem, uncatalogued = result.problems
    assert uncatalogued.kind == "object-uncatalogued"  # the real bytes, now unreferenced
    assert uncatalogued.where.startswith(f"store object {exhibit.sha256} at ")
    assert problem.kind == "object-missing"
    assert problem.where == f"original {exhibit.pk} at {get_store().location(ghost)}"
    assert run.ok is False and run.problems[0] == {
        "kind": problem.kind, "where": problem.where, "detail": problem.detail
    }
    body = json.loads(CustodyEntry.objects.get(index=run.entry_index).entry)
    assert body["details"]["problem_kinds"] == ["object-missing", "object-uncatalogued"]


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


def test_a_store_object_nothing_catalogues_is_listed_with_its_place(
    exhibit: Original, unique_bytes: Callable[[int], bytes]
) -> None:
    stray = get_store().put(io.BytesIO(unique_bytes(3000)))  # bytes stored, catalogue row never made
    [problem] = run_checks().problems
    assert problem.kind == "object-uncatalogued"
    assert problem.where == f"store object {stray.sha256} at {get_store().location(stray.sha256)}"
    assert get_store().exists(stray.sha256)  # listed, never deleted


def _sql(statement: str, params: list | None = None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _log_of(count: int) -> None:
    with transaction.atomic():
        for i in range(count):
            record("view", Actor("user", "alice"), Subject("ab" * 32), justification=f"look {i}")


def test_the_log_head_may_only_grow(db: None) -> None:
    from django.db import DatabaseError

    from overt.custody.models import CustodyHead

    _log_of(2)
    for statement in (
        "UPDATE custody_custodyhead SET size = 1",
        "DELETE FROM custody_custodyhead",
        "UPDATE custody_custodyhead SET id = 2",
    ):
        with pytest.raises(DatabaseError, match="may only grow"), transaction.atomic():
            _sql(statement)
    assert CustodyHead.objects.get().size == 2


def _drop_head_triggers() -> None:
    from types import SimpleNamespace

    from django.db import connection

    from overt.custody.triggers import drop_head_triggers

    drop_head_triggers(SimpleNamespace(connection=connection, execute=_sql))


@pytest.mark.parametrize(
    ("tamper", "detail"),
    [
        ("UPDATE custody_custodyhead SET size = 1", "the head counts 1 entries but entry 2 exists"),
        ("DELETE FROM custody_custodyhead", "the head row is gone"),
    ],
)
def test_an_altered_head_is_reported_not_a_crash(db: None, tamper: str, detail: str) -> None:
    _log_of(3)
    _drop_head_triggers()
    _sql(tamper)
    result, run = verify_instance(log_only=True)
    problems = {(p.kind, p.where) for p in result.problems}
    assert ("log-head-altered", "table custody_custodyhead row 1") in problems
    assert any(detail in p.detail for p in result.problems)
    assert run.ok is False and run.entry_index is None  # not appended at a wrong head
    assert CustodyEntry.objects.count() == 3


def test_a_head_that_is_not_a_count_is_reported_on_sqlite(db: None) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's bigint column cannot hold text")
    _log_of(1)
    _drop_head_triggers()
    _sql("UPDATE custody_custodyhead SET size = 'abc'")
    result, run = verify_instance(log_only=True)
    assert ("log-head-altered", "table custody_custodyhead row 1") in {
        (p.kind, p.where) for p in result.problems
    }
    assert run.ok is False


def test_a_broken_object_chain_is_named(db: None) -> None:
    from types import SimpleNamespace

    from django.db import connection

    from overt.custody.triggers import ENTRIES, drop_triggers

    _log_of(4)
    drop_triggers(SimpleNamespace(connection=connection, execute=_sql), ENTRIES)
    _drop_head_triggers()
    # Remove entry 3 (the last) cleanly, head included: only the chain and no checkpoint
    # could tell. Then remove entry 1: the chain names the place.
    _sql('DELETE FROM custody_custodyentry WHERE "index" = 1')
    problems = {(p.kind, p.where) for p in run_checks(log_only=True).problems}
    assert ("entry-chain-broken", "entry 2") in problems
    assert ("entry-missing", "entry 1") in problems


def test_a_removed_report_checkpoint_is_missed(exhibit: Original) -> None:
    from types import SimpleNamespace

    from django.db import connection

    from overt.custody.report import build_report
    from overt.custody.triggers import CHECKPOINTS, drop_triggers

    built = build_report(exhibit.recording_id, actor=Actor.system("test"))
    size = built.data["checkpoint"]["size"]
    drop_triggers(SimpleNamespace(connection=connection, execute=_sql), CHECKPOINTS)
    _sql("DELETE FROM custody_checkpoint WHERE size = %s", [size])
    problems = {(p.kind, p.where) for p in run_checks(log_only=True).problems}
    assert problems == {("checkpoint-missing", f"checkpoint at size {size}")}


def test_successive_checkpoints_must_be_consistent(db: None) -> None:
    from types import SimpleNamespace

    from django.db import connection

    from overt.custody import checkpoint as tlog
    from overt.custody.checkpoints import issue_checkpoint
    from overt.custody.keys import load_signing_key
    from overt.custody.triggers import CHECKPOINTS, drop_triggers

    _log_of(3)
    issue_checkpoint()
    _log_of(2)
    issue_checkpoint()
    assert run_checks(log_only=True).ok
    # The instance's own key signs a different root at size 3: a forked history.
    key = load_signing_key()
    forged = tlog.sign(tlog.Checkpoint(key.name, 3, bytes(32)), key.name, key.private_key)
    drop_triggers(SimpleNamespace(connection=connection, execute=_sql), CHECKPOINTS)
    _sql("UPDATE custody_checkpoint SET note = %s, root = %s WHERE size = 3", [forged, "00" * 32])
    problems = {(p.kind, p.where) for p in run_checks(log_only=True).problems}
    assert problems == {
        ("checkpoint-root-mismatch", "checkpoint at size 3"),
        ("checkpoint-inconsistent", "checkpoints at sizes 3 and 5"),
    }


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
    assert "2 problem(s) found" in Job.objects.get(pk=job.pk).message  # and its bytes unreferenced


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
