"""A job left running by a dead worker is taken over, on both engines.

The end-to-end test kills a real worker process with SIGKILL after its job has done the
work but before the job was marked done, and a second real worker takes the job over once
the first is silent for OVERT_JOB_STALE_SECONDS (set short here: no long sleeps). The
scaled run does the same on PostgreSQL and RQ on Redis. The other tests pin the rules:
a live worker's job is left alone, the lost attempt counts, one taker wins, and a
re-sent periodic run is never run before it is due.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.utils import timezone

from overt.jobs.models import Job, WorkerHeartbeat
from overt.jobs.services import run, stale_running, take_over_stale

HERE = Path(__file__).resolve().parent
SCALED = os.environ.get("OVERT_TEST_ENGINES", "embedded") == "scaled"
LIMIT_S = 180.0  # an upper bound on waiting for real processes, never a speed claim


def wait_for(check: Callable[[], object], what: str, limit_s: float = LIMIT_S) -> object:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up after {limit_s:.0f} s waiting for {what}")


# --- the rules, in process ------------------------------------------------------------------


def _running_job(worker: str, attempts: int = 1, silent_s: float = 60.0) -> Job:
    job = Job.objects.create(
        kind="custody.checkpoint",
        key=f"custody.checkpoint:test:{uuid.uuid4().hex}",
        status=Job.Status.RUNNING,
        attempts=attempts,
        worker=worker,
    )
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(seconds=silent_s))
    job.refresh_from_db()
    return job


def _heartbeat(worker: str, age_s: float) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id=worker,
        engine="database",
        hostname="test",
        pid=1,
        started_at=now - timedelta(hours=1),
        seen_at=now - timedelta(seconds=age_s),
    )


@pytest.mark.django_db(transaction=True)
def test_a_silent_workers_job_is_sent_again_and_counts_the_lost_attempt(settings_env) -> None:
    settings_env(job_stale_seconds=5)
    _heartbeat("dead-worker", age_s=60)
    job = _running_job("dead-worker")

    assert take_over_stale() == 1
    assert take_over_stale() == 0  # one taker wins; the row is no longer running
    job.refresh_from_db()
    assert job.status == Job.Status.RETRYING and job.attempts == 1
    assert "attempt 1 lost: worker dead-worker went silent" in job.last_error

    assert run(job.pk) == Job.Status.SUCCEEDED  # the message take_over_stale() sent
    job.refresh_from_db()
    assert job.attempts == 2 and job.worker != "dead-worker"


@pytest.mark.django_db(transaction=True)
def test_a_live_workers_long_job_is_left_alone(settings_env) -> None:
    settings_env(job_stale_seconds=5)
    _heartbeat("busy-worker", age_s=1)
    job = _running_job("busy-worker", silent_s=3600)  # no progress for an hour: still alive

    assert take_over_stale() == 0
    assert run(job.pk) == Job.Status.RUNNING  # a duplicate delivery does not run it twice
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.RUNNING, 1)


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_last_attempt_was_lost_fails_with_the_reason(settings_env) -> None:
    settings_env(job_stale_seconds=5, job_max_attempts=2)
    job = _running_job("never-beat", attempts=2)
    Job.objects.filter(pk=job.pk).update(max_attempts=2)

    assert run(job.pk) == Job.Status.RUNNING  # not a third attempt
    assert take_over_stale() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 2
    assert "attempt 2 lost" in job.last_error and not stale_running().exists()


@pytest.mark.scaled
@pytest.mark.django_db(transaction=True)
def test_a_periodic_run_sent_again_is_not_run_before_it_is_due(clean_queue) -> None:
    from overt.jobs.services import redispatch_stranded
    from overt.jobs.worker import run_worker
    from overt.retention.jobs import schedule

    job = schedule(timedelta(days=1))
    assert job.next_attempt_at is not None
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    assert redispatch_stranded(older_than_s=60) == 1  # a worker starting up re-sends it
    run_worker(burst=True)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.QUEUED, 0)


# --- a real worker killed mid-job, on the configured engines ----------------------------------


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of an instance of its own, shared by the processes of one test:
    a file SQLite database and database jobs, or (scaled) a fresh PostgreSQL database,
    a Redis database of its own and the session's S3 bucket."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERT_")}
    env.update(
        {
            "OVERT_HOME": str(tmp_path / "instance"),
            "OVERT_MIN_FREE_BYTES": "0",
            "OVERT_JOB_BACKOFF_SECONDS": "0",
            "OVERT_JOB_STALE_SECONDS": "2",
            "OVERT_TEST_PAUSE_FILE": str(tmp_path / "paused"),
        }
    )
    if not SCALED:
        yield env
        return
    import psycopg
    import redis

    name = f"overt_takeover_{uuid.uuid4().hex[:10]}"
    admin = os.environ["OVERT_DATABASE_URL"]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    queue_url = urlunsplit(urlsplit(os.environ["OVERT_REDIS_URL"])._replace(path="/13"))
    queue = redis.Redis.from_url(queue_url)
    queue.flushdb()
    env.update(
        {
            "OVERT_DATABASE_URL": urlunsplit(urlsplit(admin)._replace(path=f"/{name}")),
            "OVERT_REDIS_URL": queue_url,
            "OVERT_STORE_URL": os.environ["OVERT_STORE_URL"],
        }
    )
    try:
        yield env
    finally:
        queue.flushdb()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _overt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "overt", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def _report(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, str(HERE / "takeover_process.py"), "report"],
        env=env,
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _stop(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.scaled
def test_a_worker_killed_mid_job_has_its_job_taken_over(instance, clips) -> None:
    env = instance
    _overt(env, "migrate")  # a fresh PostgreSQL database: overt processes refuse an old schema
    _overt(env, "officer", "add", "MP100", "--name", "PC Test")
    _overt(env, "device", "add", "CAM-1", "--model", "Test Cam")
    _overt(env, "ingest", str(clips["good"]), "--officer", "MP100", "--device", "CAM-1")

    first = subprocess.Popen(
        [sys.executable, str(HERE / "takeover_process.py"), "worker"], env=env
    )
    second = None
    try:
        pause = Path(env["OVERT_TEST_PAUSE_FILE"])
        wait_for(lambda: pause.exists() or first.poll() is not None, "the first attempt")
        assert first.poll() is None, "the first worker exited instead of hanging"
        assert pause.read_text() == str(first.pid)
        helpers = _children(first.pid)
        os.kill(first.pid, signal.SIGKILL)  # the worker dies mid-job: no cleanup runs
        assert first.wait(timeout=LIMIT_S) == -signal.SIGKILL
        # and leaves no process of its own behind (RQ's forked scheduler used to stay)
        wait_for(lambda: not any(_alive(pid) for pid in helpers), "the worker's helpers")

        stranded = _report(env)["jobs"]["media.waveform"]
        assert (stranded["status"], stranded["attempts"]) == ("running", 1)
        assert f"-{first.pid}-" in stranded["worker"]

        second = subprocess.Popen([sys.executable, "-m", "overt", "worker"], env=env)

        def all_done() -> dict | None:
            seen = _report(env)
            statuses = {j["status"] for j in seen["jobs"].values()}
            return seen if statuses == {"succeeded"} else None

        done = wait_for(all_done, "the second worker to finish every job")
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        if second is not None:
            _stop(second)

    waveform = done["jobs"]["media.waveform"]  # type: ignore[index]
    assert waveform["attempts"] == 2  # the lost attempt and the one that finished
    assert f"-{second.pid}-" in waveform["worker"]
    # The re-sent job was safe: the work the dead worker did is not done twice.
    # (the test clip's transcript is a derivative too: issue 16 transcribes every original)
    assert done["derivatives"] == {  # type: ignore[index]
        "proxy": 1,
        "poster": 1,
        "sprite": 1,
        "waveform": 1,
        "transcript": 1,
    }
    assert done["derivative_entries"] == done["derivatives"]  # type: ignore[index]
    listed = json.loads(_overt(env, "jobs", "list", "--json").stdout)
    [listed_waveform] = [j for j in listed if j["kind"] == "media.waveform"]
    assert listed_waveform["attempts"] == 2 and listed_waveform["worker"] == waveform["worker"]
