"""Transcripts: versions of an original's words, and the index that finds them.

Every version is a `transcript` Derivative of the original (its JSON in the evidence
store, hashed, with a custody entry). Version 1 is the machine's, with the model's name
and hash and the library versions; a person's correction is a new version with who and
when. No version is ever changed, so the machine's text stays. The rows here are the
working copy (words for the player, text for search); they go with their derivative
when retention purges it (CASCADE), so nothing here outlives the footage.
"""

from __future__ import annotations

from django.db import models

from overt.evidence.models import Derivative, Original, Recording


class TranscriptVersion(models.Model):
    original = models.ForeignKey(
        Original, on_delete=models.CASCADE, related_name="transcript_versions"
    )
    number = models.PositiveIntegerField(help_text="1 is the machine's; each correction adds one.")
    derivative = models.OneToOneField(
        Derivative,
        on_delete=models.CASCADE,
        related_name="transcript_version",
        help_text="This version's JSON in the evidence store, with its provenance.",
    )
    status = models.CharField(max_length=32)
    language = models.CharField(max_length=16, blank=True)
    duration_s = models.FloatField()
    text = models.TextField(blank=True)
    words = models.JSONField(default=list, help_text="[[word, start, end, probability], ...]")
    author = models.CharField(max_length=150, blank=True, help_text="Empty: the machine.")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["original", "number"]
        constraints = [
            models.UniqueConstraint(fields=["original", "number"], name="one_transcript_number")
        ]

    def __str__(self) -> str:
        return f"transcript v{self.number} of original {self.original_id}"


class SpeechIndex(models.Model):
    """The current version's words of each original, normalised (search.tokens) for
    full-text search: SQLite FTS5 over it, or a PostgreSQL GIN index (migration 0002)."""

    original = models.OneToOneField(
        Original, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    recording = models.ForeignKey(
        Recording, on_delete=models.CASCADE, related_name="+", db_index=True
    )
    version = models.ForeignKey(TranscriptVersion, on_delete=models.CASCADE, related_name="+")
    tokens = models.TextField()
