from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from overt.evidence.store import EvidenceStore, open_store
from overt.evidence.store.local import LocalStore

SCALED = os.environ.get("OVERT_TEST_ENGINES", "embedded") == "scaled"


@pytest.fixture
def purge_store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    """A store whose objects can really be purged: a local one, or on the scaled engines
    a plain (unlocked) S3 bucket on moto. Object Lock has its own tests."""
    if SCALED:
        url = request.getfixturevalue("s3_plain_store_url")
        return open_store(f"{url}&spool={tmp_path / 'spool'}")
    return LocalStore(tmp_path / "store")


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "local-store")


@pytest.fixture
def people(db: None) -> tuple:
    from overt.evidence.models import Device, Officer

    officer = Officer.objects.create(number="MP200", name="PC Retain", team="Response Team 2")
    device = Device.objects.create(serial="CAM-R1", model="Test Cam", firmware="1.0")
    return officer, device


@pytest.fixture
def policies(db: None) -> None:
    from retention_support import standard_policies

    standard_policies()


@pytest.fixture
def managers(db: None) -> tuple:
    """Two users allowed to delete early, and one who is not."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    users = get_user_model()
    perm = Permission.objects.get(codename="approve_deletion", content_type__app_label="retention")
    alice = users.objects.create_user("alice", password="x")
    bob = users.objects.create_user("bob", password="x")
    carol = users.objects.create_user("carol", password="x")
    alice.user_permissions.add(perm)
    bob.user_permissions.add(perm)
    return (
        users.objects.get(pk=alice.pk),
        users.objects.get(pk=bob.pk),
        users.objects.get(pk=carol.pk),
    )


@pytest.fixture
def sim_clock() -> Iterator:
    from datetime import UTC, datetime

    from overt.retention import clock

    with clock.simulate(datetime(2025, 1, 1, 2, 0, tzinfo=UTC)) as simulated:
        yield simulated
