"""/healthz and /metrics: what an operator's monitoring polls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from overt.conf import get_settings
from overt.evidence.models import Derivative, Original
from overt.evidence.store import get_store
from overt.jobs.models import Job, WorkerHeartbeat
from overt.metrics import REGISTRY
from overt.retention.pressure import DiskPressureCollector
from overt.retention.pressure import healthz_check as disk_pressure_check


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "store": _check_store(), "worker": _check_worker()}
    checks["disk"] = disk_pressure_check()
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"ok": ok, "checks": checks}, status=200 if ok else 503)


def _check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "engine": connection.vendor}
    except Exception as exc:
        return {"ok": False, "error": str(exc)}


def _check_store() -> dict[str, Any]:
    try:
        store = get_store()
        free = store.free_bytes()
        reserve = get_settings().min_free_bytes
        ok = free is None or free > reserve
        info: dict[str, Any] = {"ok": ok, "url": _safe(store.url), "free_bytes": free}
        if not ok:
            info["error"] = f"free space {free} is below the reserve {reserve}"
        return info
    except Exception as exc:
        return {"ok": False, "error": str(exc)}


def _check_worker() -> dict[str, Any]:
    limit = get_settings().worker_heartbeat_max_age
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if latest is None:
        return {"ok": False, "error": "no worker has ever reported"}
    age = (timezone.now() - latest.seen_at).total_seconds()
    info = {"ok": age <= limit, "worker": latest.worker_id, "age_s": round(age, 1)}
    if age > limit:
        info["error"] = f"last heartbeat {age:.0f} s ago (limit {limit:.0f} s)"
    return info


def _safe(url: str) -> str:
    from overt.conf import mask_url

    return mask_url(url)


class CatalogueCollector:
    """Totals from the catalogue, so they are right whichever process did the work."""

    def collect(self) -> Iterator[Metric]:
        totals = Original.objects.aggregate(n=Count("id"), size=Sum("size"))
        yield GaugeMetricFamily("overt_originals", "Originals in the catalogue.", value=totals["n"])
        yield GaugeMetricFamily(
            "overt_originals_bytes",
            "Bytes of originals in the catalogue.",
            value=totals["size"] or 0,
        )
        unplayable = Original.objects.filter(playable=False).count()
        yield GaugeMetricFamily(
            "overt_originals_unplayable", "Originals flagged unplayable.", value=unplayable
        )
        yield GaugeMetricFamily(
            "overt_derivatives", "Derivatives stored.", value=Derivative.objects.count()
        )
        jobs = GaugeMetricFamily("overt_jobs_state", "Jobs by status.", labels=["status"])
        for row in Job.objects.values("status").annotate(n=Count("id")):
            jobs.add_metric([row["status"]], row["n"])
        yield jobs
        cutoff = timezone.now() - timedelta(seconds=get_settings().worker_heartbeat_max_age)
        alive = WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).count()
        yield GaugeMetricFamily(
            "overt_workers_alive", "Workers with a recent heartbeat.", value=alive
        )


def metrics(request: HttpRequest) -> HttpResponse:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    registry.register(CatalogueCollector())
    registry.register(DiskPressureCollector())
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
