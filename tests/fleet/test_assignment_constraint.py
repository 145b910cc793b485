"""The database itself refuses overlapping assignments of one device (evidence migration
0006: an exclusion constraint on PostgreSQL, triggers on SQLite), whoever writes; the
service turns that refusal into a Conflict, which the API answers as a 409 problem."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, connections, transaction
from support_fleet import manager_client

from overt import errors
from overt.custody.services import Actor
from overt.evidence.models import Device, DeviceAssignment, Officer
from overt.fleet import assignment

BY = Actor("user", "em")


def t(hour: int) -> datetime:
    return datetime(2026, 12, 1, hour, tzinfo=UTC)


def _world() -> tuple[Device, Officer, Officer]:
    device = Device.objects.create(serial="CAM-X", model="VB400")
    Device.objects.create(serial="CAM-Y", model="VB400")
    return (
        device,
        Officer.objects.create(number="AR1", name="PC One"),
        Officer.objects.create(number="AR2", name="PC Two"),
    )


def _insert(device: Device, officer: Officer, start: datetime, end: datetime | None) -> None:
    with transaction.atomic():
        DeviceAssignment.objects.create(
            device=device, officer=officer, starts_at=start, ends_at=end
        )


def test_a_direct_overlapping_insert_or_update_is_refused(db) -> None:
    device, one, two = _world()
    _insert(device, one, t(8), t(16))
    for start, end in [(t(15), t(18)), (t(9), t(10)), (t(1), None), (t(7), t(17))]:
        with pytest.raises(IntegrityError):
            _insert(device, two, start, end)
    _insert(device, two, t(16), t(20))  # back to back is allowed (half-open ranges)
    _insert(device, two, t(1), t(8))
    other = Device.objects.get(serial="CAM-Y")
    _insert(other, two, t(9), t(10))  # another device at the same time is fine
    open_row = DeviceAssignment.objects.create(device=device, officer=one, starts_at=t(21))
    with pytest.raises(IntegrityError), transaction.atomic():  # an update that would overlap
        DeviceAssignment.objects.filter(pk=open_row.pk).update(starts_at=t(19))
    with pytest.raises(IntegrityError), transaction.atomic():  # an insert inside an open range
        _insert(device, one, t(22), t(23))
    assert DeviceAssignment.objects.filter(device=device).count() == 4


def test_the_service_maps_the_database_refusal_to_a_409_problem(db, monkeypatch) -> None:
    device, one, _ = _world()
    _insert(device, one, t(8), t(16))
    # A writer whose own check missed the other range (as a racing node's would): only
    # the database stands in the way.
    monkeypatch.setattr(assignment, "overlaps", lambda *args: False)
    with pytest.raises(errors.Conflict, match="refused by the database"):
        assignment.assign("CAM-X", "AR2", starts_at=t(10), ends_at=t(12), by=BY)
    response = manager_client().post(
        "/api/devices/CAM-X/assign/",
        json.dumps({"officer": "AR2", "starts_at": "2026-12-01T10:00:00Z"}),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    assert "already assigned" in response.json()["detail"]
    assert list(DeviceAssignment.objects.values_list("officer__number", flat=True)) == ["AR1"]


PARALLEL = 6


def _together(count: int, target) -> list[BaseException | None]:  # type: ignore[no-untyped-def]
    gate = threading.Barrier(count)
    outcomes: list[BaseException | None] = [None] * count

    def run(n: int) -> None:
        try:
            gate.wait()
            target(n)
        except BaseException as exc:
            outcomes[n] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_parallel_overlapping_writers_leave_one_assignment(transactional_db) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a race between database writers: PostgreSQL (the scaled run)")
    device, one, two = _world()
    officers = [one, two]

    # Raw inserts from six connections at once, no service and no row lock: the
    # exclusion constraint alone admits exactly one.
    def raw(n: int) -> None:
        _insert(device, officers[n % 2], t(8 + n % 3), t(18))

    outcomes = _together(PARALLEL, raw)
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, IntegrityError) for o in outcomes if o is not None), outcomes
    assert DeviceAssignment.objects.filter(device=device).count() == 1

    # Through the service, with its own check switched off (as if racing): one wins, the
    # others get the domain Conflict, never an IntegrityError.
    DeviceAssignment.objects.all().delete()
    real = assignment.overlaps
    assignment.overlaps = lambda *args: False  # type: ignore[assignment]
    try:
        outcomes = _together(
            PARALLEL,
            lambda n: assignment.assign(
                "CAM-X", officers[n % 2].number, starts_at=t(8), ends_at=t(18), by=BY
            ),
        )
    finally:
        assignment.overlaps = real  # type: ignore[assignment]
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, errors.Conflict) for o in outcomes if o is not None), outcomes
    assert DeviceAssignment.objects.filter(device=device).count() == 1
