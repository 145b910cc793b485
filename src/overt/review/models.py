"""The review workspace's own records: saved library searches and multi-camera offsets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from overt.evidence.models import Original


class SavedSearch(models.Model):
    """A library query a reviewer named and kept (their own; nobody else sees it)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(max_length=100)
    query = models.CharField(
        max_length=2000, blank=True, help_text="The library's query string, without the page."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="one_saved_search_per_name")
        ]

    def __str__(self) -> str:
        return self.name


class SyncOffset(models.Model):
    """How two overlapping clips line up: `other` is shown `offset_s` seconds later than
    its camera's clock says, relative to `reference` (whose clock is taken as true).

    The estimate comes from cross-correlating the two clips' audio (the
    `review.sync-offsets` job); a reviewer may nudge it, and that manual value then
    stands until they change it again (a later estimate is kept beside it, not over it).
    """

    class Source(models.TextChoices):
        ESTIMATE = "estimate", "audio cross-correlation"
        MANUAL = "manual", "set by a reviewer"
        NONE = "none", "camera clocks (no estimate)"

    reference = models.ForeignKey(Original, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Original, on_delete=models.CASCADE, related_name="+")
    offset_s = models.FloatField(default=0.0, help_text="The offset in use.")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.NONE)
    estimated_s = models.FloatField(null=True, blank=True)
    confidence = models.FloatField(
        null=True, blank=True, help_text="0 to 1, from the correlation peak's prominence."
    )
    peak_ratio = models.FloatField(
        null=True, blank=True, help_text="Peak-to-sidelobe ratio of the correlation."
    )
    overlap_s = models.FloatField(default=0.0, help_text="Audio compared, in seconds.")
    estimator = models.CharField(max_length=200, blank=True)
    estimated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.CharField(max_length=150, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    note = models.CharField(max_length=500, blank=True, help_text="Why it was last set by hand.")

    class Meta:
        ordering = ["reference", "other"]
        constraints = [
            models.UniqueConstraint(fields=["reference", "other"], name="one_offset_per_pair"),
            models.CheckConstraint(
                condition=Q(reference__lt=F("other")), name="offset_pair_in_id_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.other_id} vs {self.reference_id}: {self.offset_s:+.3f} s ({self.source})"
