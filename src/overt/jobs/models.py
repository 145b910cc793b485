"""Job state that both engines share: what to run, how far it got, why it failed.

django-tasks carries the work to a worker; this table is the record a person reads
(API, CLI, jobs page) and what makes jobs idempotent: one row per (kind, subject).
"""

from __future__ import annotations

from django.db import models


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        RETRYING = "retrying"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=64, db_index=True)
    key = models.CharField(max_length=200, unique=True, help_text="kind:subject; one job each.")
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(
        max_length=100, blank=True, help_text="The worker that ran the latest attempt."
    )
    max_attempts = models.PositiveIntegerField(default=5)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=500, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.key} [{self.status}]"

    @property
    def done(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}


class WorkerHeartbeat(models.Model):
    worker_id = models.CharField(max_length=100, unique=True)
    engine = models.CharField(max_length=16)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
