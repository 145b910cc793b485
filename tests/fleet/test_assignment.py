"""Assignments: ranges that never overlap for one camera, check-out and check-in at the
kiosk by tag, and a custody entry for every change."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from overt import errors
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Device, DeviceAssignment, Officer
from overt.fleet import assignment
from overt.fleet.assignment import overlaps

BY = Actor("user", "em")


def t(hour: int, day: int = 1) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def test_overlap_rule_is_half_open() -> None:
    ranges = [(t(8), t(16)), (t(20), None)]
    assert not overlaps(ranges, t(16), t(20))  # back to back is fine
    assert overlaps(ranges, t(15), t(17))
    assert overlaps(ranges, t(21), t(22))  # inside the open one
    assert overlaps(ranges, t(1), None)
    assert not overlaps(ranges, t(1), t(8))


@pytest.fixture
def fleet(db) -> None:  # type: ignore[no-untyped-def]
    Officer.objects.create(number="AR1", name="PC One")
    Officer.objects.create(number="AR2", name="PC Two")
    Device.objects.create(serial="CAM-A", model="VB400")


def _changes() -> list[str]:
    return [
        json.loads(e)["details"].get("change", "")
        for e in CustodyEntry.objects.order_by("index").values_list("entry", flat=True)
    ]


def test_admin_ranges_never_overlap_and_each_change_is_logged(fleet) -> None:
    assignment.assign("CAM-A", "AR1", starts_at=t(8), ends_at=t(16), by=BY)
    with pytest.raises(errors.Conflict, match="already assigned"):
        assignment.assign("CAM-A", "AR2", starts_at=t(15), ends_at=t(18), by=BY)
    with pytest.raises(errors.Invalid, match="end after it starts"):
        assignment.assign("CAM-A", "AR2", starts_at=t(18), ends_at=t(17), by=BY)
    assignment.assign("CAM-A", "AR2", starts_at=t(16), ends_at=t(20), by=BY)
    # An open assignment that began earlier is ended by the next one.
    assignment.assign("CAM-A", "AR1", starts_at=t(21), by=BY)
    assignment.assign("CAM-A", "AR2", starts_at=t(23), by=BY)
    rows = list(
        DeviceAssignment.objects.order_by("starts_at").values_list(
            "officer__number", "starts_at", "ends_at"
        )
    )
    assert rows == [
        ("AR1", t(8), t(16)),
        ("AR2", t(16), t(20)),
        ("AR1", t(21), t(23)),
        ("AR2", t(23), None),
    ]
    assert _changes() == [
        "device-assigned",
        "device-assigned",
        "device-assigned",
        "device-assignment-ended",
        "device-assigned",
    ]
    with pytest.raises(errors.Conflict):  # an open range before a later one overlaps it
        assignment.assign("CAM-A", "AR1", starts_at=t(1), by=BY)


def test_kiosk_check_out_and_in_by_tags(fleet) -> None:
    assignment.set_officer_tag("AR1", " 04a2 ff10\n", by=BY)
    assignment.set_officer_tag("AR2", "04A2FF11", by=BY)
    assignment.set_device_tag("CAM-A", "CAMTAG-1", by=BY)
    with pytest.raises(errors.Conflict, match="already belongs"):
        assignment.set_officer_tag("AR2", "04A2FF10", by=BY)
    row = assignment.check_out("04A2FF10", "camtag-1", by=BY)
    assert (row.officer.number, row.ends_at) == ("AR1", None)
    with pytest.raises(errors.Conflict, match="checked out to officer AR1"):
        assignment.check_out("04A2FF11", "CAMTAG-1", by=BY)
    with pytest.raises(errors.NotFound, match="not registered"):
        assignment.check_out("UNKNOWN", "CAMTAG-1", by=BY)
    ended = assignment.check_in("CAMTAG-1", by=BY)
    assert ended.ends_at is not None
    with pytest.raises(errors.Conflict, match="not checked out"):
        assignment.check_in("CAMTAG-1", by=BY)
    assert assignment.check_out("04A2FF11", "CAMTAG-1", by=BY).officer.number == "AR2"
