"""Disk pressure (alert early, refuse with 507, never delete for space), categories in the
ingest sidecar, and the evidence manager's page and certificate downloads."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from retention_support import ACTOR, make_recording

from overt.custody.models import CustodyEntry
from overt.evidence.models import Original
from overt.evidence.store import InsufficientSpace, get_store
from overt.evidence.store.local import LocalStore
from overt.ingest.services import UnknownCategory, ingest_file
from overt.ingest.sidecar import parse_sidecar
from overt.jobs.worker import Heartbeat
from overt.retention.models import Tombstone
from overt.retention.pressure import disk_pressure
from overt.retention.services import run_retention
from overt.web.problems import problem_exception_handler

DAY = timedelta(days=1)
TiB = 1 << 40


def test_pressure_levels(tmp_path: Path, settings_env) -> None:
    store = LocalStore(tmp_path / "store")
    free = store.free_bytes()
    assert free is not None
    settings_env(min_free_bytes=0, disk_warning_free_bytes=1)
    assert disk_pressure(store).level == "ok"
    settings_env(min_free_bytes=1, disk_warning_free_bytes=free + TiB)
    warning = disk_pressure(store)
    assert (warning.level, warning.value) == ("warning", 1)
    assert "add space before ingest is refused" in warning.message()
    settings_env(min_free_bytes=free + TiB, disk_warning_free_bytes=free + 2 * TiB)
    critical = disk_pressure(store)
    assert (critical.level, critical.value) == ("critical", 2)
    assert "never deleted for space" in critical.message()


def test_a_reserve_above_the_warning_still_refuses(tmp_path: Path, settings_env) -> None:
    store = LocalStore(tmp_path / "store")
    settings_env(min_free_bytes=store.free_bytes() + TiB)  # the warning left at its default
    assert disk_pressure(store).level == "critical"


def test_healthz_and_metrics_report_disk_pressure(client, db, settings_env) -> None:
    store = get_store()
    if store.free_bytes() is None:
        pytest.skip("this store reports no free-space limit (S3)")
    Heartbeat("test-worker", "database").beat()
    settings_env(min_free_bytes=0, disk_warning_free_bytes=store.free_bytes() + TiB)
    response = client.get("/healthz")
    assert response.status_code == 200  # a warning is an alert, not an outage
    disk = response.json()["checks"]["disk"]
    assert disk["ok"] and disk["level"] == "warning" and "disk pressure" in disk["warning"]
    text = client.get("/metrics").content.decode()
    assert "overt_disk_pressure 1.0" in text and "overt_store_free_bytes" in text

    settings_env(min_free_bytes=TiB * 1024, disk_warning_free_bytes=TiB * 2048)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["disk"]["level"] == "critical"
    assert "overt_disk_pressure 2.0" in client.get("/metrics").content.decode()


def test_http_refusal_for_space_is_507_problem_json() -> None:
    response = problem_exception_handler(InsufficientSpace(5 << 30, 1 << 30), {})
    assert response is not None and response.status_code == 507
    assert response.content_type == "application/problem+json"
    assert response.data["title"] == "Insufficient Storage"
    assert "never deleted to make room" in response.data["detail"]


def test_ingest_refused_for_space_and_retention_deletes_nothing_for_it(
    people, policies, clips, settings_env, sim_clock, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "store")
    officer, device = people
    young = make_recording(
        store,
        officer,
        device,
        sim_clock.now() - 3 * DAY,
        label="young",
        categories=("Non-evidential",),
    )
    settings_env(
        min_free_bytes=store.free_bytes() + TiB,
        disk_warning_free_bytes=2 * TiB + store.free_bytes(),
    )
    with pytest.raises(InsufficientSpace):
        ingest_file(clips["good"], officer_number="MP200", device_serial="CAM-R1", store=store)
    assert not Original.objects.exclude(recording=young.recording).exists()
    report = run_retention(store=store)
    assert report.outcomes == []  # full disk or not, nothing that is not due goes
    assert all(store.exists(sha) for sha in young.objects)


def test_sidecar_categories_are_applied_or_refused_before_storing(
    people, policies, clips, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "store")
    meta = parse_sidecar(
        json.dumps({"schema": "overt.sidecar/1", "categories": ["Evidential", "Traffic"]}).encode()
    )
    result = ingest_file(
        clips["good"], officer_number="MP200", device_serial="CAM-R1", sidecar=meta, store=store
    )
    rec = Original.objects.get(pk=result.id).recording
    assert sorted(rec.categories.values_list("name", flat=True)) == ["Evidential", "Traffic"]
    change = CustodyEntry.objects.get(action="category-change", object_sha256=result.sha256)
    assert json.loads(change.entry)["details"]["after"] == ["Evidential", "Traffic"]

    bad = parse_sidecar(
        json.dumps({"schema": "overt.sidecar/1", "categories": ["Evidential", "Nope"]}).encode()
    )
    with pytest.raises(UnknownCategory, match=r"'Nope'.*nothing was stored"):
        ingest_file(
            clips["silent"],
            officer_number="MP200",
            device_serial="CAM-R1",
            sidecar=bad,
            store=store,
        )
    assert list(store.iter_hashes()) == [result.sha256]


def test_upcoming_page_and_certificates(
    client, people, policies, sim_clock, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "store")
    officer, device = people
    soon = make_recording(
        store,
        officer,
        device,
        sim_clock.now() - 28 * DAY,
        label="soon",
        categories=("Non-evidential",),
    )
    later = make_recording(
        store,
        officer,
        device,
        sim_clock.now() - 10 * DAY,
        label="later",
        categories=("Non-evidential",),
    )
    gone = make_recording(
        store,
        officer,
        device,
        sim_clock.now() - 50 * DAY,
        label="gone",
        categories=("Non-evidential",),
    )
    uncat = make_recording(store, officer, device, sim_clock.now() - 5 * DAY, label="uncat")
    run_retention(store=store)
    sim_clock.advance(7 * DAY)
    run_retention(store=store)
    number = Tombstone.objects.get(recording_ref=gone.pk).certificate.number

    from overt.testing.access import make_user, sign_in

    assert client.get("/retention/").status_code == 302  # login required
    sign_in(client, make_user("pc", "officer"))
    for url in (
        "/retention/",
        "/retention/upcoming.json",
        f"/retention/certificates/{number}.json",
    ):
        refused = client.get(url)
        assert refused.status_code == 403 and "manage-retention" in refused.json()["detail"]
    sign_in(client, make_user("manager", "evidence-manager"))
    page = client.get("/retention/")
    assert page.status_code == 200
    html = page.content.decode()
    week, _, rest = html.partition('id="month-heading"')
    assert f'href="/recordings/{soon.pk}/"' in week
    assert f'href="/recordings/{later.pk}/"' in rest
    assert number in html and "Response Team 2" in html  # certificate; uncategorised worklist
    assert "<script" not in html.split("</header>")[1]

    data = client.get("/retention/upcoming.json?days=30").json()["upcoming"]
    stages = {r["recording"]: r["stage"] for r in data}
    assert stages == {soon.pk: "purge", later.pk: "recycle", uncat.pk: "review"}
    assert client.get("/retention/upcoming.json?days=x").status_code == 400

    cert = client.get(f"/retention/certificates/{number}.json")
    assert cert.status_code == 200 and json.loads(cert.content)["certificate"] == number
    pdf = client.get(f"/retention/certificates/{number}.pdf")
    assert pdf.status_code in (200, 503)
    if pdf.status_code == 200:
        assert pdf.content.startswith(b"%PDF")
    missing = client.get("/retention/certificates/DC-999999.json")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"
    assert ACTOR  # (the helper's actor made the policies)
