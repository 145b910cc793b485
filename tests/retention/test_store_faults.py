"""Purges that fail part-way through the store, for real, and S3 Object Lock.

A local store whose object directory cannot be unlinked (read-only, or immutable for
root), and an S3 object that an administrator locks while the purge runs, on moto_server.
Each time the catalogue and the store must agree afterwards, and the next run finishes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from retention_support import ACTOR, consistent, deny_unlink, make_recording, snapshot

from overt.custody.models import CustodyEntry
from overt.evidence.models import Original
from overt.evidence.store import open_store
from overt.evidence.store.local import LocalStore
from overt.evidence.store.s3 import S3Store
from overt.retention import clock, services
from overt.retention.models import Disposal, Tombstone
from overt.retention.services import Refused, run_retention
from support_s3 import s3_client, store_url

pytestmark = [pytest.mark.scaled, pytest.mark.usefixtures("policies")]
DAY = timedelta(days=1)


@pytest.fixture
def now_clock():
    with clock.simulate(datetime.now(UTC).replace(microsecond=0)) as simulated:
        yield simulated


def _recycled(people, store, clock_, label: str, originals: int = 2, wait: bool = True):
    """A recording in the recycle bin; with wait, its recycle window has passed."""
    officer, device = people
    made = make_recording(
        store,
        officer,
        device,
        clock_.now() - 40 * DAY,
        label=label,
        categories=("Non-evidential",),
        originals=originals,
    )
    run_retention(store=store)
    assert Disposal.objects.get(recording_ref=made.pk).status == "recycled"
    if wait:
        clock_.advance(7 * DAY)
    return made


@pytest.fixture
def no_recycle_window(settings_env) -> None:
    """S3 locks run on real time: keep the simulated clock at real time too."""
    settings_env(retention_recycle_days=0)


def test_local_purge_failing_halfway_leaves_both_consistent_and_the_next_run_finishes(
    people, local_store: LocalStore, sim_clock
) -> None:
    made = _recycled(people, local_store, sim_clock, "fault-local")
    originals = list(Original.objects.filter(recording=made.recording).order_by("pk"))
    second = originals[1].sha256
    with deny_unlink(local_store.path(second).parent):
        report = run_retention(store=local_store)
        (outcome,) = report.outcomes
        assert outcome.action == "failed" and "purging" in outcome.detail
        disposal = Disposal.objects.get(recording_ref=made.pk)
        assert disposal.status == "purging" and disposal.last_error
        removed = [o["sha256"] for o in disposal.purged_objects]
        assert 1 <= len(removed) < len(made.objects) and second not in removed
        consistent(local_store, removed)
        assert local_store.exists(second)
        # What was removed is on the record already; no certificate until it is all gone.
        assert CustodyEntry.objects.filter(action="purge", object_sha256=removed[1]).exists()
        assert not Tombstone.objects.filter(recording_ref=made.pk).exists()
        # Part of it is gone: it cannot come back whole.
        with pytest.raises(Refused, match="cannot come back whole"):
            services.recover(made.pk, reason="wanted", actor=ACTOR, store=local_store)
        sim_clock.advance(DAY)
        assert run_retention(store=local_store).outcomes[0].action == "failed"

    sim_clock.advance(DAY)
    report = run_retention(store=local_store)
    assert [o.action for o in report.outcomes] == ["purged"]
    consistent(local_store, list(made.objects))
    body = json.loads(Tombstone.objects.get(recording_ref=made.pk).certificate.body)
    assert {o["sha256"] for o in body["what"]["objects"]} == set(made.objects)
    assert body["when"]["attempts"] == 3


def test_a_hold_after_a_partial_purge_stops_it_and_keeps_the_rest(
    people, local_store: LocalStore, sim_clock
) -> None:
    made = _recycled(people, local_store, sim_clock, "fault-hold")
    second = Original.objects.filter(recording=made.recording).order_by("pk")[1].sha256
    with deny_unlink(local_store.path(second).parent):
        run_retention(store=local_store)
    result = services.set_hold(made.pk, reason="late complaint", actor=ACTOR, store=local_store)
    assert not result.recovered and "kept under the hold" in result.note
    sim_clock.advance(30 * DAY)
    report = run_retention(store=local_store)
    assert [o.action for o in report.outcomes] == ["held"]
    assert local_store.exists(second)
    assert Original.objects.filter(sha256=second).exists()


# --- S3 ----------------------------------------------------------------------------------


def _versions(store: S3Store, sha: str) -> list[dict[str, Any]]:
    listing = store._client.list_object_versions(Bucket=store.bucket, Prefix=store.key(sha))
    return listing.get("Versions", [])


def _set_lock(endpoint: str, store: S3Store, sha: str, until: datetime) -> None:
    client = s3_client(endpoint)
    for version in _versions(store, sha):
        client.put_object_retention(
            Bucket=store.bucket,
            Key=store.key(sha),
            VersionId=version["VersionId"],
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until},
            BypassGovernanceRetention=True,
        )


@pytest.fixture
def governance_store(moto_endpoint: str, s3_store_url: str, tmp_path: Path) -> S3Store:
    bucket = s3_store_url.split("/")[2]
    url = store_url(moto_endpoint, bucket, lock_days="1", lock_mode="GOVERNANCE")
    store = open_store(f"{url}&spool={tmp_path / 'spool'}")
    assert isinstance(store, S3Store)
    return store


def test_s3_object_locked_while_the_purge_runs(
    people, governance_store: S3Store, moto_endpoint: str, now_clock, no_recycle_window
) -> None:
    store = governance_store
    made = _recycled(people, store, now_clock, "fault-s3", wait=False)
    past = datetime.now(UTC) - DAY
    for sha in made.objects:  # the store's own one-day lock, already over
        _set_lock(moto_endpoint, store, sha, past)
    second = Original.objects.filter(recording=made.recording).order_by("pk")[1].sha256
    locked_until = (datetime.now(UTC) + DAY).replace(microsecond=0)

    def admin_locks_the_second_original(event: str, info: dict) -> None:
        if event == "purged-original":  # after the first original: lock the next one
            _set_lock(moto_endpoint, store, second, locked_until)

    report = run_retention(store=store, observer=admin_locks_the_second_original)
    (outcome,) = report.outcomes
    assert outcome.action == "failed" and "Object Lock" in outcome.detail
    disposal = Disposal.objects.get(recording_ref=made.pk)
    assert disposal.status == "purging"
    assert disposal.lock_until == locked_until and disposal.purge_after == locked_until
    removed = [o["sha256"] for o in disposal.purged_objects]
    consistent(store, removed)
    assert store.exists(second) and second not in removed

    # Before the lock ends the purge waits (reconciled), and says so on the upcoming list.
    assert run_retention(store=store).outcomes == []
    (row,) = services.upcoming(days=30)
    assert row.stage == "purge" and row.date == locked_until

    _set_lock(moto_endpoint, store, second, past)  # the administrator lifts the lock
    now_clock.advance(2 * DAY)
    assert [o.action for o in run_retention(store=store).outcomes] == ["purged"]
    consistent(store, list(made.objects))
    for sha in made.objects:
        assert _versions(store, sha) == []


def test_s3_object_lock_defers_the_purge_until_it_ends(
    people, governance_store: S3Store, moto_endpoint: str, now_clock, no_recycle_window
) -> None:
    store = governance_store
    made = _recycled(people, store, now_clock, "lock-defer", originals=1, wait=False)
    before = snapshot(made.pk, store)
    report = run_retention(store=store)
    (outcome,) = report.outcomes
    assert outcome.action == "deferred" and "Object Lock" in outcome.detail
    disposal = Disposal.objects.get(recording_ref=made.pk)
    assert disposal.status == "recycled"  # nothing was removed
    assert disposal.lock_until is not None and disposal.purge_after == disposal.lock_until
    assert disposal.lock_until > datetime.now(UTC)
    assert snapshot(made.pk, store) == before
    dry = run_retention(disposal.lock_until + DAY, dry_run=True, store=store)
    assert [o.action for o in dry.outcomes] == ["would-defer"]

    for sha in made.objects:
        _set_lock(moto_endpoint, store, sha, datetime.now(UTC) - DAY)
    now_clock.set(disposal.lock_until + timedelta(minutes=1))
    assert [o.action for o in run_retention(store=store).outcomes] == ["purged"]


def test_s3_compliance_lock_is_respected(
    people, s3_store_url: str, tmp_path, now_clock, no_recycle_window
) -> None:
    store = open_store(f"{s3_store_url}&spool={tmp_path / 'spool'}")
    made = _recycled(people, store, now_clock, "compliance", originals=1, wait=False)
    (outcome,) = run_retention(store=store).outcomes
    assert outcome.action == "deferred"
    until = Disposal.objects.get(recording_ref=made.pk).lock_until
    assert until is not None and until > datetime.now(UTC) + 29 * DAY  # lock_days=31
    for sha, data in made.objects.items():
        assert b"".join(store.read_range(sha)) == data
