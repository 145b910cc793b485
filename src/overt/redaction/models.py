"""Redaction projects: what was detected in a recording's original, what a reviewer
decided about it, and the audio to silence. Data only: nothing is burned into footage
until a render makes a new, separate derivative."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from overt.evidence.models import Derivative, Original


class RedactionProject(models.Model):
    class Status(models.TextChoices):
        DETECTING = "detecting", "detecting"
        REVIEW = "review", "ready for review"
        RENDERING = "rendering", "rendering"
        RENDERED = "rendered", "rendered"
        FAILED = "failed", "failed"

    class Mode(models.TextChoices):
        BLUR = "blur", "blur"
        PIXELATE = "pixelate", "pixelate"
        SOLID = "solid", "solid box"

    original = models.ForeignKey(
        Original, on_delete=models.PROTECT, related_name="redaction_projects"
    )
    title = models.CharField(max_length=200, blank=True, help_text="e.g. FOI 2026/118, press")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DETECTING)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.BLUR)
    margin = models.FloatField(default=0.3, help_text="Box growth on each side (fraction).")
    faces = models.BooleanField(default=True)
    # Off by default: the only plate detector is OpenCV's Haar cascade, a baseline that
    # misses most plates; a reviewer turns it on and reviews its tracks.
    plates = models.BooleanField(default=False)
    stride = models.PositiveSmallIntegerField(default=3)
    max_height = models.PositiveIntegerField(
        null=True, blank=True, help_text="Scale the copy down to this many lines; empty keeps it."
    )
    # What detection found out about the footage (upright display size).
    frames = models.PositiveIntegerField(default=0)
    fps = models.FloatField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    rotation = models.PositiveSmallIntegerField(default=0)
    detectors = models.JSONField(default=dict, blank=True, help_text="name -> exact version")
    detect_runs = models.PositiveIntegerField(default=0)
    render_runs = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title or f"Redaction {self.pk}"

    def settings(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "margin": self.margin,
            "stride": self.stride,
            "faces": self.faces,
            "plates": self.plates,
            "max_height": self.max_height,
        }


class Track(models.Model):
    """One thing to mask through time: detected (face, plate) or drawn (manual)."""

    class Label(models.TextChoices):
        FACE = "face", "face"
        PLATE = "plate", "licence plate"
        MANUAL = "manual", "manual box"

    project = models.ForeignKey(RedactionProject, on_delete=models.CASCADE, related_name="tracks")
    number = models.PositiveIntegerField(help_text="Track id within the project.")
    label = models.CharField(max_length=16, choices=Label.choices)
    detector = models.CharField(max_length=64)
    included = models.BooleanField(default=True, help_text="Masked in the render.")
    start_s = models.FloatField()
    end_s = models.FloatField()
    score = models.FloatField(default=0.0)
    thumbnail = models.BinaryField(blank=True, default=b"", help_text="JPEG of its best view.")
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "start_s", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="one_track_number"),
            models.CheckConstraint(condition=Q(end_s__gte=models.F("start_s")), name="track_span"),
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.number}"


class Box(models.Model):
    """A detection (or a reviewer's keyframe) of a track: normalised upright corners."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="boxes")
    t = models.FloatField(help_text="Seconds from the recording's first frame.")
    x1 = models.FloatField()
    y1 = models.FloatField()
    x2 = models.FloatField()
    y2 = models.FloatField()
    score = models.FloatField(default=1.0)
    manual = models.BooleanField(default=False, help_text="A keyframe set by a reviewer.")

    class Meta:
        ordering = ["track", "t"]
        indexes = [models.Index(fields=["track", "t"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(x2__gt=models.F("x1")) & Q(y2__gt=models.F("y1")), name="box_shape"
            )
        ]


class AudioRange(models.Model):
    class Mode(models.TextChoices):
        MUTE = "mute", "mute"
        BLEEP = "bleep", "bleep"

    project = models.ForeignKey(
        RedactionProject, on_delete=models.CASCADE, related_name="audio_ranges"
    )
    start_s = models.FloatField()
    end_s = models.FloatField()
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.MUTE)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "start_s"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_s__gt=models.F("start_s")) & Q(start_s__gte=0), name="audio_span"
            )
        ]


class Render(models.Model):
    """One render of a project: the redacted derivative it made, once it made one."""

    project = models.ForeignKey(RedactionProject, on_delete=models.CASCADE, related_name="renders")
    number = models.PositiveIntegerField()
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField(auto_now_add=True)
    derivative = models.OneToOneField(
        Derivative, on_delete=models.PROTECT, null=True, blank=True, related_name="redaction_render"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    leak_check = models.JSONField(
        default=dict, blank=True, help_text="The leak check's summary (detector, frames, findings)."
    )

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="one_render_number")
        ]


class LeakFinding(models.Model):
    """A face the leak check found in a rendered copy. Until every finding of a copy is
    marked "not a face", that copy may not be released or shared."""

    class Status(models.TextChoices):
        OPEN = "open", "not yet reviewed"
        NOT_A_FACE = "not-a-face", "not a face"
        FIXED = "fixed", "fixed in a later copy"

    render = models.ForeignKey(Render, on_delete=models.CASCADE, related_name="leak_findings")
    number = models.PositiveIntegerField()
    start_s = models.FloatField()
    end_s = models.FloatField()
    x1 = models.FloatField()
    y1 = models.FloatField()
    x2 = models.FloatField()
    y2 = models.FloatField()
    score = models.FloatField()
    frames = models.PositiveIntegerField(default=1, help_text="Checked frames it was found on.")
    thumbnail = models.BinaryField(blank=True, default=b"", help_text="JPEG from the copy.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    fixed_by_track = models.PositiveIntegerField(
        null=True, blank=True, help_text="The manual track that masks it in later copies."
    )

    class Meta:
        ordering = ["render", "number"]
        constraints = [
            models.UniqueConstraint(fields=["render", "number"], name="one_leak_finding_number")
        ]
