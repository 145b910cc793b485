"""Concurrency at force scale, on real PostgreSQL: clips of one activation catalogued at
the same moment by several workers make ONE recording; custody appends from many threads
keep the log's indices gapless and its chain intact. (On the embedded engine, SQLite
admits one writer at a time, so there is no race to test there.)"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection, connections

from overt.custody.checkpoints import issue_checkpoint
from overt.custody.keys import ensure_signing_key
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor, Subject, record
from overt.custody.verify import run_checks
from overt.evidence.models import Device, Officer, Original, Recording
from overt.ingest.request import Activation, IngestRequest
from overt.ingest.services import ingest

PARALLEL = 6


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a race between database writers: PostgreSQL (the scaled run)")


def _together(work: list, target) -> list:  # type: ignore[no-untyped-def, type-arg]
    """Run target(item) for every item in its own thread, all released at once."""
    gate = threading.Barrier(len(work))
    failures: list[BaseException] = []

    def run(item: object) -> None:
        try:
            gate.wait()
            target(item)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(item,)) for item in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return failures


def test_parallel_clips_of_one_activation_make_one_recording(
    transactional_db, tmp_path: Path
) -> None:
    _postgresql_only()
    Officer.objects.create(number="AR1", name="PC Armed")
    Device.objects.create(serial="CAM-P", model="VB400")
    pressed = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    files = []
    for n in range(PARALLEL):
        path = tmp_path / f"clip-{n}.bin"
        path.write_bytes(os.urandom(50_000))
        files.append(path)

    def catalogue(path: Path) -> None:
        ingest(
            IngestRequest(
                path=path,
                officer_number="AR1",
                device_serial="CAM-P",
                activation=Activation(trigger_on_at=pressed),
            )
        )

    assert _together(files, catalogue) == []
    assert Recording.objects.filter(device__serial="CAM-P").count() == 1
    assert Original.objects.filter(recording__device__serial="CAM-P").count() == PARALLEL


def test_custody_appends_from_many_threads_stay_one_consistent_log(transactional_db) -> None:
    _postgresql_only()
    from django.db import transaction

    ensure_signing_key()
    before = CustodyEntry.objects.count()

    def append(n: int) -> None:
        for i in range(10):
            if n == 0:  # one thread signs checkpoints while the others append
                issue_checkpoint()
                continue
            with transaction.atomic():
                record(
                    "metadata-change",
                    Actor("system", f"t{n}"),
                    Subject("", {"device": f"D{n}"}),
                    details={"i": i},
                )

    assert _together(list(range(PARALLEL)), append) == []
    indices = list(CustodyEntry.objects.order_by("index").values_list("index", flat=True))
    assert len(indices) == before + (PARALLEL - 1) * 10
    assert indices == list(range(indices[0], indices[0] + len(indices)))
    issue_checkpoint()
    checks = run_checks(log_only=True)
    assert checks.ok, checks.problems
    assert checks.checkpoints >= 2
