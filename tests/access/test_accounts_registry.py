"""Issue 12, item 2: TOTP reset, disabling a user, and registering officers, devices and
assignments go through access services that write their custody entry in the same
transaction (the CLI used to write the models itself, and registration logged nothing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from overt import errors
from overt.access import accounts, registry
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Device, DeviceAssignment, Officer
from overt.testing.access import make_user

BY = Actor.system("cli:tester")


def _details(action: str) -> list[dict]:
    rows = CustodyEntry.objects.filter(action=action, actor=str(BY)).order_by("index")
    return [json.loads(r.entry)["details"] for r in rows]


def test_reset_totp_and_disable_are_logged_with_the_change(db: None) -> None:
    user = make_user("sue", "supervisor", team="Alpha", password="a long enough password")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    assert accounts.reset_totp(user, by=BY) == 1
    assert not TOTPDevice.objects.filter(user=user).exists()
    accounts.disable_user(user, by=BY)
    user.refresh_from_db()
    assert user.is_active is False
    assert _details("permission-change")[-2:] == [
        {"change": "totp-reset", "devices": 1},
        {"change": "disabled"},
    ]


def test_registering_officers_devices_and_assignments_is_logged(db: None) -> None:
    registry.register_officer("MP100", "PC Test", team="TSG", by=BY)
    registry.register_officer("MP200", "PC Two", by=BY)
    registry.register_device("CAM-1", "Axis W120", firmware="1.2", by=BY)
    first = datetime(2026, 1, 1, 8, tzinfo=UTC)
    registry.assign_device("CAM-1", "MP100", starts_at=first, by=BY)
    registry.assign_device("CAM-1", "MP200", starts_at=datetime(2026, 1, 2, 8), by=BY)
    rows = DeviceAssignment.objects.order_by("starts_at")
    assert [(r.officer.number, r.ends_at) for r in rows] == [
        ("MP100", datetime(2026, 1, 2, 8, tzinfo=UTC)),
        ("MP200", None),
    ]
    changes = [(d["change"], d.get("ended")) for d in _details("metadata-change")]
    assert changes == [
        ("officer-added", None),
        ("officer-added", None),
        ("device-added", None),
        ("device-assigned", []),
        ("device-assigned", ["MP100"]),
    ]


def test_registry_refusals_are_domain_errors_and_change_nothing(db: None) -> None:
    registry.register_officer("MP100", "PC Test", by=BY)
    with pytest.raises(errors.Conflict, match="officer MP100 already exists"):
        registry.register_officer("MP100", "Someone Else", by=BY)
    with pytest.raises(errors.NotFound, match="no device 'CAM-9'"):
        registry.assign_device("CAM-9", "MP100", by=BY)
    registry.register_device("CAM-1", "Axis W120", by=BY)
    with pytest.raises(errors.Conflict, match="device CAM-1 already exists"):
        registry.register_device("CAM-1", "Other", by=BY)
    with pytest.raises(errors.NotFound, match="no officer 'MP999'"):
        registry.assign_device("CAM-1", "MP999", by=BY)
    assert Officer.objects.get().name == "PC Test" and Device.objects.get().model == "Axis W120"
    assert not DeviceAssignment.objects.exists()
    assert len(_details("metadata-change")) == 2  # the two registrations, nothing else


def test_an_aware_start_is_converted_to_utc_and_a_naive_one_is_utc(db: None) -> None:
    registry.register_officer("MP100", "PC Test", by=BY)
    registry.register_officer("MP200", "PC Two", by=BY)
    registry.register_device("CAM-1", "Axis W120", by=BY)
    registry.register_device("CAM-2", "Axis W120", by=BY)
    plus_two = timezone(timedelta(hours=2))
    aware = registry.assign_device(
        "CAM-1", "MP100", starts_at=datetime(2026, 6, 1, 10, tzinfo=plus_two), by=BY
    )
    naive = registry.assign_device("CAM-2", "MP200", starts_at=datetime(2026, 6, 1, 10), by=BY)
    aware.refresh_from_db()
    naive.refresh_from_db()
    assert aware.starts_at == datetime(2026, 6, 1, 8, tzinfo=UTC)  # the same instant
    assert naive.starts_at == datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert [d["from"] for d in _details("metadata-change")[-2:]] == [
        "2026-06-01T08:00:00Z",
        "2026-06-01T10:00:00Z",
    ]


def test_a_start_before_the_open_assignment_is_refused_and_changes_nothing(db: None) -> None:
    registry.register_officer("MP100", "PC Test", by=BY)
    registry.register_officer("MP200", "PC Two", by=BY)
    registry.register_device("CAM-1", "Axis W120", by=BY)
    first = datetime(2026, 1, 2, 8, tzinfo=UTC)
    registry.assign_device("CAM-1", "MP100", starts_at=first, by=BY)
    logged = len(_details("metadata-change"))
    for back_dated in (first - timedelta(days=1), first):
        with pytest.raises(errors.Invalid, match="must start after") as refused:
            registry.assign_device("CAM-1", "MP200", starts_at=back_dated, by=BY)
        assert refused.value.field == "starts_at"
    [row] = DeviceAssignment.objects.all()
    assert (row.officer.number, row.starts_at, row.ends_at) == ("MP100", first, None)
    assert len(_details("metadata-change")) == logged  # nothing logged for the refusals


def test_the_cli_registers_through_the_service(overt_cli) -> None:  # type: ignore[no-untyped-def]
    assert overt_cli("officer", "add", "MP100", "--name", "PC Test").returncode == 0
    again = overt_cli("officer", "add", "MP100", "--name", "Again")
    assert again.returncode == 1 and "officer MP100 already exists (PC Test)" in again.stderr
    missing = overt_cli("device", "assign", "CAM-1", "MP100")
    assert missing.returncode == 2 and "no device 'CAM-1'" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert overt_cli("device", "add", "CAM-1", "--model", "Test Cam").returncode == 0
    assigned = overt_cli("device", "assign", "CAM-1", "MP100", "--from", "2026-01-01T08:00:00")
    assert assigned.returncode == 0, assigned.stderr
    assert "from 2026-01-01T08:00:00+00:00" in assigned.stdout
    verified = overt_cli("verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
