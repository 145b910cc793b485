"""Oversight state: deployments and their attendances, the compliance verdicts computed
on them, complaints with their linked footage, supervisor review draws and outcomes,
and the transparency reports published."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from overt.evidence.models import Officer, Recording

from .contract import DEPLOYMENT_TYPES
from .rules import STATUSES


class Deployment(models.Model):
    """A firearms authorisation, a CAD incident attended, a stop and search or a use of
    force, as the force's systems sent it (the reference is theirs and unique)."""

    reference = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=32, choices=[(t, t) for t in DEPLOYMENT_TYPES])
    borough = models.CharField(max_length=100, db_index=True)
    team = models.CharField(max_length=100, db_index=True)
    authorised_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField()
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    content_sha256 = models.CharField(
        max_length=64, help_text="Of its contract JSON: a re-import of the same is a no-op."
    )
    imported_at = models.DateTimeField()
    imported_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["-arrived_at", "reference"]

    def __str__(self) -> str:
        return self.reference


class Attendance(models.Model):
    """One officer at one deployment. `officer` is null when the number is unknown to
    overt (kept, never dropped: such an attendance can have no footage here)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="attendances")
    officer_number = models.CharField(max_length=32, db_index=True)
    officer = models.ForeignKey(
        Officer, on_delete=models.PROTECT, null=True, blank=True, related_name="attendances"
    )
    arrived_at = models.DateTimeField(db_index=True)
    departed_at = models.DateTimeField()
    times_from = models.CharField(
        max_length=16,
        default="officer",
        help_text="'officer' (their own times), 'deployment' (none given: the deployment's) "
        "or 'mixed'.",
    )

    class Meta:
        ordering = ["arrived_at", "officer_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "officer_number"], name="one_attendance_per_officer"
            )
        ]


class Verdict(models.Model):
    """The compliance engine's verdict on an attendance, as last computed."""

    attendance = models.OneToOneField(Attendance, on_delete=models.CASCADE, related_name="verdict")
    status = models.CharField(max_length=16, choices=[(s, s) for s in STATUSES], db_index=True)
    activation_delay_s = models.FloatField(null=True, blank=True)
    early_stop_s = models.FloatField(null=True, blank=True)
    recordings = models.JSONField(default=list)
    gaps = models.JSONField(default=list)
    muted_audio = models.BooleanField(default=False)
    borough = models.CharField(max_length=100, db_index=True)
    team = models.CharField(max_length=100)
    month = models.CharField(max_length=7, db_index=True)
    computed_at = models.DateTimeField()

    class Meta:
        # The drill-downs filter by borough and/or month, then status (a bar's link).
        indexes = [
            models.Index(fields=["borough", "month", "status"], name="verdict_borough_month"),
            models.Index(fields=["month", "status"], name="verdict_month_status"),
        ]


class Complaint(models.Model):
    reference = models.CharField(max_length=64, unique=True)
    received_on = models.DateField()
    occurred_from = models.DateTimeField()
    occurred_to = models.DateTimeField()
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    borough = models.CharField(max_length=100, blank=True)
    summary = models.TextField(blank=True)
    officers = models.JSONField(default=list, help_text="The officer numbers named.")
    outcome = models.CharField(max_length=200, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    registered_by = models.CharField(max_length=200)
    registered_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_on", "reference"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("received_on")),
                name="complaint_closed_after_received",
            ),
            models.CheckConstraint(
                condition=Q(occurred_to__gte=models.F("occurred_from")),
                name="complaint_window_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class ComplaintLink(models.Model):
    """Footage linked to a complaint; the link placed the complaint hold `hold_id`."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="links")
    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="+")
    hold_id = models.PositiveBigIntegerField()
    linked_by = models.CharField(max_length=200)
    linked_at = models.DateTimeField()

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "recording"], name="one_link_per_pair")
        ]


class ReviewDraw(models.Model):
    """One weekly random sample for a team. Every draw is kept and logged with its seed."""

    team = models.CharField(max_length=100)
    week = models.DateField(help_text="The Monday the week starts on.")
    seed = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    candidates = models.PositiveIntegerField()
    redraw_reason = models.TextField(blank=True)
    drawn_by = models.CharField(max_length=200)
    drawn_at = models.DateTimeField()

    class Meta:
        ordering = ["-week", "team", "-drawn_at"]


class ReviewItem(models.Model):
    draw = models.ForeignKey(ReviewDraw, on_delete=models.CASCADE, related_name="items")
    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="+")
    weight = models.FloatField()
    why = models.JSONField(default=list, help_text="What raised its weight.")
    reason_codes = models.JSONField(default=list)
    note = models.TextField(blank=True)
    reviewed_by = models.CharField(max_length=200, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["draw", "id"]


class PublishedReport(models.Model):
    """A transparency report: its figures' hash went into the custody log at leaf_index."""

    month = models.CharField(max_length=7)
    sha256 = models.CharField(max_length=64)
    leaf_index = models.PositiveBigIntegerField()
    tree_size = models.PositiveBigIntegerField()
    published_by = models.CharField(max_length=200)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at"]


class Snapshot(models.Model):
    """What the dashboards draw, taken at the end of each compliance run: verdict counts
    by borough, team, month and status, and the catalogue's figures (recordings,
    categorised, storage), so that a dashboard page reads one row."""

    computed_at = models.DateTimeField(db_index=True)
    counts = models.JSONField(default=list, help_text="[borough, team, month, status, n, muted]")
    catalogue = models.JSONField(default=dict)
    stale_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When deployments or recordings first changed after it was taken (the "
        "pages say so until the next compliance run).",
    )
    stale_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
