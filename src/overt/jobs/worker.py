"""The worker process: the database engine's loop or an RQ worker, plus a heartbeat."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from django.db import close_old_connections, connection
from django.utils import timezone

from overt.conf import get_settings

from .models import WorkerHeartbeat
from .services import redispatch_stranded

log = logging.getLogger(__name__)
HEARTBEAT_INTERVAL_S = 10.0


class Heartbeat(threading.Thread):
    """Writes this worker's liveness every few seconds so /healthz can see it."""

    def __init__(self, worker_id: str, engine: str) -> None:
        super().__init__(name="overt-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.engine = engine
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
            while not self.stopped.wait(HEARTBEAT_INTERVAL_S):
                try:
                    close_old_connections()
                    self.beat()
                except Exception:  # a busy database must not kill the worker
                    log.exception("worker heartbeat failed")
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()


def run_worker(*, burst: bool = False, interval: float = 0.5) -> None:
    """Run jobs until stopped (or, with burst, until the queue is empty)."""
    settings = get_settings()
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    heartbeat = Heartbeat(worker_id, settings.jobs_engine)
    heartbeat.beat()
    if not burst:
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
    worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
