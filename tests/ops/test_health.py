"""/healthz and /metrics."""

from __future__ import annotations

import pytest

from overt.ingest.services import ingest_file
from overt.jobs.models import WorkerHeartbeat
from overt.jobs.worker import Heartbeat

pytestmark = pytest.mark.scaled


def test_healthz_reports_a_missing_worker(client, db) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["ok"] and body["checks"]["store"]["ok"]
    assert body["checks"]["worker"] == {"ok": False, "error": "no worker has ever reported"}


def test_healthz_is_ok_with_a_live_worker(client, db) -> None:
    Heartbeat("test-worker", "database").beat()
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["worker"]["worker"] == "test-worker"


def test_healthz_reports_a_stale_heartbeat(client, db, settings_env) -> None:
    Heartbeat("old-worker", "database").beat()
    from datetime import timedelta

    from django.utils import timezone

    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=5))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "last heartbeat" in response.json()["checks"]["worker"]["error"]


def test_metrics_count_ingest(client, people, clips) -> None:
    before = client.get("/metrics").content.decode()
    ingest_file(clips["corrupt"], officer_number="MP100", device_serial="CAM-1")
    text = client.get("/metrics").content.decode()
    assert "overt_originals 1.0" in text
    assert "overt_originals_unplayable 1.0" in text
    assert "overt_jobs_state" in text and "overt_workers_alive" in text
    assert "overt_ingest_bytes_total" in before
