"""Prometheus counters. Each process counts its own; /metrics adds the catalogue's totals."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

REGISTRY = CollectorRegistry(auto_describe=True)

BYTES_INGESTED = Counter(
    "overt_ingest_bytes", "Bytes of new originals ingested by this process.", registry=REGISTRY
)
ORIGINALS_INGESTED = Counter(
    "overt_ingest_originals",
    "New originals ingested by this process.",
    ["playable"],
    registry=REGISTRY,
)
JOBS = Counter(
    "overt_jobs",
    "Job attempts run by this process, by outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
