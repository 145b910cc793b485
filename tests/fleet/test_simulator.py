"""`overt-camera simulate` against the real app (tus and all): its JSON summary is the
protocol's, and every object the server stored re-hashes to what the simulator sent."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

from django.db import connection

from overt.access.grants import create_token
from overt.access.matrix import Role
from overt.custody.services import Actor
from overt.evidence.models import Device, Original, Recording
from overt.evidence.store import get_store
from overt.fleet.models import FleetDevice
from overt.ingest.people import UNATTRIBUTED
from overt.testing.access import make_user

KEYS = ["cameras", "uploads", "bytes", "errors", "p50_s", "p95_s", "p99_s", "sha256s"]


def _admin_token() -> str:
    admin = make_user("fleet-admin", Role.ADMIN)
    return create_token(admin, "simulator", ["manage-fleet"], by=Actor("user", "test"))[1]


def _simulate(server: str, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "overt_camera.simulate",
            "--server",
            server,
            "--token",
            token,
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _rehash(sha256: str) -> str:
    """The stored object's bytes, read back and hashed here (not the store's own word)."""
    digest = hashlib.sha256()
    for block in get_store().read_range(sha256):
        digest.update(block)
    return digest.hexdigest()


def _parallel() -> str:
    # SQLite in memory (the embedded test database) takes one writer at a time and
    # reports a lock to the second; PostgreSQL takes the cameras in parallel.
    return "3" if connection.vendor == "postgresql" else "1"


def test_a_small_fleet_docks_and_every_stored_object_rehashes(app_server: str) -> None:
    done = _simulate(
        app_server,
        _admin_token(),
        "--cameras",
        "3",
        "--segments",
        "2",
        "--segment-mb",
        "0.3",
        "--concurrency",
        _parallel(),
        "--prefix",
        "SIMT",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert list(summary) == KEYS
    assert (summary["cameras"], summary["uploads"], summary["errors"]) == (3, 6, 0)
    assert summary["bytes"] == 6 * 300_000
    assert 0 < summary["p50_s"] <= summary["p95_s"] <= summary["p99_s"]
    sent = summary["sha256s"]
    assert len(set(sent)) == 6
    stored = dict(Original.objects.filter(sha256__in=sent).values_list("sha256", "size"))
    assert set(stored) == set(sent) and set(stored.values()) == {300_000}
    for sha256 in sent:
        assert _rehash(sha256) == sha256
    # Each camera enrolled with its own key and signed its segments: one recording per
    # camera's activation, verified at the lens.
    recordings = Recording.objects.filter(device__serial__startswith="SIMT-")
    assert recordings.count() == 3
    assert {r.capture_signature for r in recordings} == {"verified"}, [
        r.capture_problems for r in recordings
    ]
    # Nobody was assigned these cameras: kept, on the unattributed worklist.
    officers = set(
        Original.objects.filter(sha256__in=sent).values_list(
            "recording__officer__number", flat=True
        )
    )
    assert officers == {UNATTRIBUTED}
    # Each camera reported at the dock and applied its config.
    fleet = FleetDevice.objects.filter(device__serial__startswith="SIMT-")
    assert fleet.count() == 3
    assert all(f.pending_bytes == 0 and f.config_version == 0 for f in fleet)


def test_bad_arguments_and_a_token_without_the_scope_are_refused(app_server: str) -> None:
    bad = _simulate(app_server, "x", "--cameras", "0")
    assert bad.returncode == 2 and "--cameras must be at least 1" in bad.stderr
    viewer = make_user("viewer", Role.ADMIN)
    token = create_token(viewer, "viewer", ["list"], by=Actor("user", "test"))[1]
    refused = _simulate(app_server, token, "--cameras", "1", "--json")
    assert refused.returncode == 1 and "403" in refused.stderr
    assert json.loads(refused.stdout)["errors"] == 1
    assert not Device.objects.filter(serial__startswith="SIM-").exists()


def test_segment_sizes_spread_over_a_range_with_a_known_total() -> None:
    from overt_camera.simulate import segment_sizes

    sizes = segment_sizes(3000, 10, 60)
    assert len(sizes) == 3000 and min(sizes) >= 10_000_000 and max(sizes) <= 60_000_000
    assert all(size % 1_000_000 == 0 for size in sizes)
    # Skewed towards short activations, but the long end is there.
    ordered = sorted(sizes)
    assert ordered[1500] < sum(sizes) / 3000 < 20_000_000 and ordered[-1] >= 50_000_000
    # Stratified, not random: the same total whatever the shuffle.
    assert sum(segment_sizes(3000, 10, 60, seed=7)) == sum(sizes)
    assert segment_sizes(4, 1.0) == [1_000_000] * 4  # one size without a range


def test_a_fleet_with_a_size_range_stores_each_planned_size(app_server: str) -> None:
    from overt_camera.simulate import segment_sizes

    done = _simulate(
        app_server,
        _admin_token(),
        "--cameras",
        "2",
        "--segments",
        "2",
        "--segment-mb",
        "1",
        "--segment-mb-max",
        "3",
        "--concurrency",
        _parallel(),
        "--prefix",
        "SIMR",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    planned = segment_sizes(4, 1, 3)
    assert summary["bytes"] == sum(planned) and summary["errors"] == 0
    stored = Original.objects.filter(sha256__in=summary["sha256s"])
    assert sorted(stored.values_list("size", flat=True)) == sorted(planned)
    for sha256 in summary["sha256s"]:
        assert _rehash(sha256) == sha256
    bad = _simulate(
        app_server, "x", "--cameras", "1", "--segment-mb", "1.2", "--segment-mb-max", "1.5"
    )
    assert bad.returncode == 2 and "whole MB" in bad.stderr
