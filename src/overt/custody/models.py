"""The custody log's storage. Rows are append-only: database triggers refuse UPDATE
and DELETE (see migration 0002), the head may only grow (0005), and no admin page or API
edits them."""

from __future__ import annotations

from django.db import models


class CustodyHead(models.Model):
    """A single row holding the log size. Locking it serialises appends, which keeps
    leaf indices gapless on PostgreSQL as well as SQLite."""

    size = models.PositiveBigIntegerField(default=0)


class CustodyEntry(models.Model):
    index = models.PositiveBigIntegerField(unique=True, help_text="Merkle leaf index, from 0.")
    recorded_at = models.DateTimeField()
    action = models.CharField(max_length=32, db_index=True)
    actor = models.CharField(max_length=200)
    object_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    entry = models.TextField(help_text="The canonical JSON exactly as hashed into the log.")
    leaf_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["index"]
        verbose_name_plural = "custody entries"
        # Finding an object's latest entry (its chain head) when appending: see services.
        indexes = [models.Index(fields=["object_sha256", "index"], name="custody_object_chain")]


class Checkpoint(models.Model):
    """A signed tree head: the C2SP signed note exactly as issued, plus its parsed fields
    for querying. Append-only like the log (migration 0004)."""

    size = models.PositiveBigIntegerField(unique=True, help_text="Tree size it signs.")
    root = models.CharField(max_length=64, help_text="Root hash, lowercase hex.")
    note = models.TextField(help_text="The signed note, byte for byte as issued.")
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["size"]
        get_latest_by = "size"

    def __str__(self) -> str:
        return f"checkpoint at size {self.size}"


class VerifyRun(models.Model):
    """The outcome of one `overt verify` or scrub, kept so the result stays visible."""

    class Trigger(models.TextChoices):
        CLI = "cli", "overt verify"
        SCRUB = "scrub", "scheduled scrub"

    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    log_only = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    entries = models.PositiveBigIntegerField(help_text="Log entries checked.")
    checkpoints = models.PositiveIntegerField(help_text="Checkpoints checked.")
    objects_checked = models.PositiveIntegerField(help_text="Originals and derivatives re-hashed.")
    problems = models.JSONField(default=list, blank=True)
    entry_index = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Leaf index of the `verify` entry recording this run."
    )

    class Meta:
        ordering = ["-started_at", "-id"]
