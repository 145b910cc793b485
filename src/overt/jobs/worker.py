"""The worker process: the database engine's loop or an RQ worker, plus a heartbeat.

The heartbeat thread also takes over the jobs of dead workers: every beat it re-sends
running jobs whose worker has been silent for OVERT_JOB_STALE_SECONDS."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import close_old_connections, connection
from django.utils import timezone

from overt.conf import get_settings

from .models import WorkerHeartbeat
from .services import redispatch_stranded, set_worker_id, take_over_stale

if TYPE_CHECKING:  # rq is imported only where the Redis engine runs
    from rq import Queue

log = logging.getLogger(__name__)
HEARTBEAT_INTERVAL_S = 10.0


def heartbeat_interval() -> float:
    # Several beats fit in the stale threshold, so one slow write never looks like death.
    return min(HEARTBEAT_INTERVAL_S, get_settings().job_stale_seconds / 4)


class Heartbeat(threading.Thread):
    """Writes this worker's liveness every few seconds (for /healthz and for the stale-job
    check of every other worker), and takes over the jobs of workers that went silent."""

    def __init__(self, worker_id: str, engine: str, *, take_over: bool = True) -> None:
        super().__init__(name="overt-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.engine = engine
        self.take_over = take_over
        self.stopped = threading.Event()
        self.started_at = timezone.now()

    def beat(self) -> None:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "engine": self.engine,
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
                "started_at": self.started_at,
                "seen_at": timezone.now(),
            },
        )

    def run(self) -> None:
        try:
            while not self.stopped.wait(heartbeat_interval()):
                try:
                    close_old_connections()
                    self.beat()
                    if self.take_over:
                        take_over_stale()
                except Exception:  # a busy database must not kill the worker
                    log.exception("worker heartbeat failed")
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()


def _new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@contextmanager
def foreground_heartbeat() -> Iterator[str]:
    """Beat for jobs run in this process outside a worker (`overt jobs run`), so that a
    long job that reports no progress is not taken over while this process is alive.
    It only beats: taking over other workers' jobs is the workers' business."""
    worker_id = _new_worker_id()
    previous = set_worker_id(worker_id)
    heartbeat = Heartbeat(worker_id, "foreground", take_over=False)
    heartbeat.beat()
    heartbeat.start()
    try:
        yield worker_id
    finally:
        heartbeat.stop()
        heartbeat.join(timeout=30)
        # Gone, not silent: /healthz must not count a finished run as a worker.
        WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
        set_worker_id(previous)


def run_worker(*, burst: bool = False, interval: float = 0.5) -> None:
    """Run jobs until stopped (or, with burst, until the queue is empty)."""
    settings = get_settings()
    worker_id = _new_worker_id()
    set_worker_id(worker_id)
    heartbeat = Heartbeat(worker_id, settings.jobs_engine)
    heartbeat.beat()
    if not burst:
        take_over_stale()
        redispatch_stranded()
        heartbeat.start()
    try:
        if settings.jobs_engine == "redis":
            _run_rq(burst)
        else:
            _run_database(worker_id, burst, interval)
    finally:
        heartbeat.stop()


def _run_database(worker_id: str, burst: bool, interval: float) -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["default"],
        interval=interval,
        batch=burst,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id[:64],
        excluded_queue_names=[],
    )
    if not burst:
        worker.configure_signals()
    worker.run()


def _run_rq(burst: bool) -> None:
    import django_rq
    from django_tasks_rq.backend import Job as TaskJob
    from rq import SimpleWorker

    queue = django_rq.get_queue("default", job_class=TaskJob)
    # SimpleWorker runs jobs in this process: no fork, so Django's connections stay valid.
    worker = SimpleWorker([queue], connection=queue.connection, job_class=TaskJob)
    if burst:  # RQ moves due delayed jobs once, in this process
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
        return
    # RQ's own scheduler is a forked process that outlives a worker killed with SIGKILL;
    # run it as a thread of this process instead, so a dead worker leaves nothing behind.
    scheduler = RQSchedulerThread(queue)
    scheduler.start()
    try:
        worker.work(burst=False, with_scheduler=False, logging_level="WARNING")
    finally:
        scheduler.stop()


class RQSchedulerThread(threading.Thread):
    """Moves delayed RQ jobs (retries after backoff, scheduled runs) to the queue when due."""

    def __init__(self, queue: Queue) -> None:
        from rq.scheduler import RQScheduler

        super().__init__(name="overt-rq-scheduler", daemon=True)
        self.scheduler = RQScheduler([queue], connection=queue.connection)
        self.stopped = threading.Event()

    def run(self) -> None:
        rq = self.scheduler
        rq.register_birth()
        try:
            while not self.stopped.wait(rq.interval):
                try:
                    if rq.should_reacquire_locks:
                        rq.acquire_locks()
                    rq.heartbeat()
                    rq.enqueue_scheduled_jobs()
                except Exception:  # Redis away for a moment must not end scheduling
                    log.exception("RQ scheduling failed")
        finally:
            rq.stop()  # releases its locks, so another worker's scheduler takes over now

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)
