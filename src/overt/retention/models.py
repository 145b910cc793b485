"""Retention state: policies on categories, holds, trigger events, review decisions,
disposals (recycle, recover, purge), deletion requests, certificates and tombstones.

A recording leaves the catalogue in two steps. When it falls due it is *recycled*: it
stays whole and can be recovered for OVERT_RETENTION_RECYCLE_DAYS. Then its bytes are
*purged* from the store, a deletion certificate is issued and a tombstone replaces the
catalogue rows. Each step is a custody log entry written in the step's transaction.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from overt.evidence.models import Category, Recording

from .rules import AT_EXPIRY, HOLD_KINDS, STARTS_FROM, TRIGGER_KINDS, Period, Rule


class RetentionPolicy(models.Model):
    """How long footage in a category is kept, counted from when, and what happens then."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    years = models.PositiveSmallIntegerField(default=0)
    months = models.PositiveSmallIntegerField(default=0)
    days = models.PositiveIntegerField(default=0)
    starts_from = models.CharField(
        max_length=32,
        choices=[(s, s) for s in STARTS_FROM],
        default="recorded",
        help_text="'recorded' (the recording time) or a trigger event such as case-closed.",
    )
    at_expiry = models.CharField(max_length=16, choices=[(a, a) for a in AT_EXPIRY])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "retention policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(years__gt=0) | Q(months__gt=0) | Q(days__gt=0),
                name="policy_period_at_least_a_day",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def period(self) -> Period:
        return Period(self.years, self.months, self.days)

    def rule(self) -> Rule:
        return Rule(self.name, self.period, self.starts_from, self.at_expiry)


class CategoryPolicy(models.Model):
    """The policy a category's footage is kept under."""

    category = models.OneToOneField(Category, on_delete=models.CASCADE, related_name="retention")
    policy = models.ForeignKey(RetentionPolicy, on_delete=models.PROTECT, related_name="links")
    assigned_at = models.DateTimeField()
    assigned_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["category__name"]


class Hold(models.Model):
    """A hold suspends retention: nothing held is recycled or purged, whatever its age.

    Cases, complaints and post-incident procedures set holds of their kind; a person sets a
    legal hold. `recording_ref` keeps the recording's id after a purge (only released holds
    can outlive their recording: an unreleased one blocks the purge, here and in the
    database, where the foreign key is PROTECT).
    """

    kind = models.CharField(max_length=16, choices=list(HOLD_KINDS.items()))
    recording = models.ForeignKey(
        Recording, on_delete=models.PROTECT, null=True, blank=True, related_name="holds"
    )
    recording_ref = models.PositiveBigIntegerField(db_index=True)
    reference = models.CharField(
        max_length=100, blank=True, help_text="Case, complaint or order reference."
    )
    reason = models.TextField()
    set_by = models.CharField(max_length=200)
    set_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=200, blank=True)
    release_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["set_at", "id"]
        indexes = [models.Index(fields=["recording", "released_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(released_at__isnull=True) | Q(released_at__gte=F("set_at")),
                name="hold_released_after_set",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="hold_has_a_reason"),
        ]

    @property
    def active(self) -> bool:
        return self.released_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "recording": self.recording_ref,
            "kind": self.kind,
            "reference": self.reference,
            "reason": self.reason,
            "set_by": self.set_by,
            "set_at": self.set_at.isoformat(),
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "released_by": self.released_by,
            "release_reason": self.release_reason,
        }


class TriggerEvent(models.Model):
    """A dated event that can start a retention clock (case closed, conviction, ...)."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="triggers")
    kind = models.CharField(max_length=32, choices=list(TRIGGER_KINDS.items()))
    occurred_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    recorded_by = models.CharField(max_length=200)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["recording", "kind"])]


class ReviewDecision(models.Model):
    """A review's outcome: keep the footage until a date (then review it again)."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="reviews")
    keep_until = models.DateTimeField()
    reason = models.TextField()
    reviewed_by = models.CharField(max_length=200)
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["reviewed_at", "id"]


class DeletionRequest(models.Model):
    """Early deletion: one authorised user requests, a different one approves.

    Both need the permission retention.approve_deletion; the database refuses a decision
    by the requester.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REFUSED = "refused"

    recording = models.ForeignKey(
        Recording,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deletion_requests",
    )
    recording_ref = models.PositiveBigIntegerField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("approve_deletion", "Can request and approve early deletion of evidence"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="deletion_needs_two_people",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="deletion_request_has_reason"),
            models.UniqueConstraint(
                fields=["recording_ref"],
                condition=Q(status="pending"),
                name="one_pending_deletion_request",
            ),
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "recording": self.recording_ref,
            "status": self.status,
            "requested_by": self.requested_by.get_username(),
            "reason": self.reason,
            "requested_at": self.requested_at.isoformat(),
            "decided_by": self.decided_by.get_username() if self.decided_by else None,
            "decision_reason": self.decision_reason,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


class Disposal(models.Model):
    """One recording's way out of the catalogue: recycled, then recovered or purged."""

    class Status(models.TextChoices):
        RECYCLED = "recycled", "in the recycle bin (recoverable)"
        RECOVERED = "recovered", "recovered"
        PURGING = "purging", "purge under way (part of the bytes removed)"
        PURGED = "purged", "purged"

    class Basis(models.TextChoices):
        POLICY = "policy", "retention policy"
        EARLY = "early", "early deletion (two-person approval)"

    recording = models.ForeignKey(
        Recording, on_delete=models.PROTECT, null=True, blank=True, related_name="disposals"
    )
    recording_ref = models.PositiveBigIntegerField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    basis = models.CharField(max_length=16, choices=Basis.choices)
    decided_by = models.CharField(max_length=300, help_text="The rule that decided it.")
    policy = models.CharField(max_length=100, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    request = models.OneToOneField(
        DeletionRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="disposal"
    )
    recycled_at = models.DateTimeField()
    recycled_by = models.CharField(max_length=200)
    purge_after = models.DateTimeField(db_index=True)
    lock_until = models.DateTimeField(
        null=True, blank=True, help_text="The store's Object Lock ends then; purge waits."
    )
    recovered_at = models.DateTimeField(null=True, blank=True)
    recovered_by = models.CharField(max_length=200, blank=True)
    recover_reason = models.TextField(blank=True)
    purge_started_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)
    manifest = models.JSONField(default=dict, help_text="The recording and its objects.")
    purged_objects = models.JSONField(default=list, help_text="Hashes removed so far.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["purge_after", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recording_ref"],
                condition=Q(status__in=["recycled", "purging"]),
                name="one_open_disposal_per_recording",
            ),
        ]

    @property
    def open(self) -> bool:
        return self.status in {self.Status.RECYCLED, self.Status.PURGING}

    @property
    def certificate_number(self) -> str:
        return f"DC-{self.pk:06d}"


class DeletionCertificate(models.Model):
    """What was deleted, why, by whom and when: canonical JSON, hashed, in the custody log."""

    number = models.CharField(max_length=32, unique=True)
    disposal = models.OneToOneField(Disposal, on_delete=models.PROTECT, related_name="certificate")
    recording_ref = models.PositiveBigIntegerField(db_index=True)
    issued_at = models.DateTimeField()
    body = models.TextField(help_text="Canonical JSON (overt.deletion-certificate/1).")
    sha256 = models.CharField(max_length=64)
    custody_index = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.number


class Tombstone(models.Model):
    """What remains in the catalogue of a purged recording: enough to say it existed,
    what it was and where its certificate is; none of the footage or its content."""

    recording_ref = models.PositiveBigIntegerField(unique=True)
    officer_number = models.CharField(max_length=32)
    device_serial = models.CharField(max_length=64)
    trigger_on_at = models.DateTimeField()
    trigger_off_at = models.DateTimeField(null=True, blank=True)
    incident_reference = models.CharField(max_length=64, blank=True)
    categories = models.JSONField(default=list)
    contents = models.JSONField(default=list, help_text="[{role, sha256, size, ...}]")
    deleted_at = models.DateTimeField()
    certificate = models.OneToOneField(
        DeletionCertificate, on_delete=models.PROTECT, related_name="tombstone"
    )

    class Meta:
        ordering = ["-deleted_at", "-id"]

    def to_json(self) -> dict[str, Any]:
        return {
            "recording": self.recording_ref,
            "state": "deleted",
            "officer": self.officer_number,
            "device": self.device_serial,
            "trigger_on_at": self.trigger_on_at.isoformat(),
            "trigger_off_at": self.trigger_off_at.isoformat() if self.trigger_off_at else None,
            "incident": self.incident_reference,
            "categories": self.categories,
            "objects": self.contents,
            "deleted_at": self.deleted_at.isoformat(),
            "certificate": self.certificate.number,
        }
