"""The evidence catalogue: who filmed what, with which camera, when and where.

The bytes themselves live in the EvidenceStore, addressed by SHA-256; these rows
point at them by hash and never hold footage.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Officer(models.Model):
    number = models.CharField(
        "warrant or collar number", max_length=32, unique=True, help_text="As issued by the force."
    )
    name = models.CharField(max_length=200)
    team = models.CharField("team or borough", max_length=100, blank=True, db_index=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Device(models.Model):
    serial = models.CharField(max_length=64, unique=True)
    model = models.CharField(max_length=100, blank=True)
    firmware = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(
        null=True, blank=True, help_text="Revoked: may not enrol, upload or sign from then on."
    )

    class Meta:
        ordering = ["serial"]

    def __str__(self) -> str:
        return self.serial


class DeviceAssignment(models.Model):
    """Which officer wore which device, from `starts_at` until `ends_at` (open if null)."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="assignments")
    officer = models.ForeignKey(Officer, on_delete=models.PROTECT, related_name="assignments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="assignment_ends_after_start",
            )
        ]


class Incident(models.Model):
    """A reference such as a CAD number, grouping several officers' recordings."""

    reference = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=64, blank=True, help_text="e.g. armed deployment")
    occurred_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "reference"]

    def __str__(self) -> str:
        return self.reference


class Category(models.Model):
    """An evidential category. Retention policies attach here in the retention stage."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaptureSignature(models.TextChoices):
    """What the camera's signed manifests say of a clip or recording (issue 13)."""

    VERIFIED = "verified", "verified: signed at the lens, complete"
    UNSIGNED = "unsigned", "unsigned: no signed manifest"
    BROKEN = "broken", "broken: a signature, key or hash does not hold"
    GAP = "gap", "gap: a segment or recording is missing"


class Recording(models.Model):
    """One camera activation: trigger on to trigger off, grouping its clips (Originals)."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="recordings")
    officer = models.ForeignKey(Officer, on_delete=models.PROTECT, related_name="recordings")
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="recordings"
    )
    title = models.CharField(max_length=200, blank=True)
    trigger_on_at = models.DateTimeField(db_index=True)
    trigger_off_at = models.DateTimeField(null=True, blank=True)
    trigger_on_reason = models.CharField(max_length=64, blank=True)
    trigger_off_reason = models.CharField(max_length=64, blank=True)
    pre_event_seconds = models.FloatField(default=0)
    start_latitude = models.FloatField(null=True, blank=True)
    start_longitude = models.FloatField(null=True, blank=True)
    gps_track = models.JSONField(
        default=list, blank=True, help_text="List of {t, lat, lon} points, t in UTC ISO 8601."
    )
    categories = models.ManyToManyField(Category, blank=True, related_name="recordings")
    tags = models.ManyToManyField(Tag, blank=True, related_name="recordings")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Signed at the lens (overt camera agent): the device's own id for the activation,
    # which joins its segments into this one recording, and what their manifests prove.
    capture_recording_id = models.CharField(max_length=64, blank=True, default="")
    capture_signature = models.CharField(
        max_length=16, choices=CaptureSignature.choices, default=CaptureSignature.UNSIGNED
    )
    capture_problems = models.JSONField(default=list, blank=True)
    clock_offset_s = models.FloatField(
        null=True, blank=True, help_text="Device clock minus server clock (s), as last reported."
    )

    class Meta:
        ordering = ["-trigger_on_at", "-id"]
        indexes = [
            models.Index(fields=["officer", "trigger_on_at"]),
            models.Index(fields=["device", "trigger_on_at"]),
            models.Index(fields=["incident", "trigger_on_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "capture_recording_id"],
                condition=~Q(capture_recording_id=""),
                name="one_recording_per_capture_id",
            )
        ]

    def __str__(self) -> str:
        return self.title or f"Recording {self.pk}"


class Original(models.Model):
    """One file exactly as it came off a camera. Its bytes are in the store under sha256."""

    class Source(models.TextChoices):
        CLI = "cli", "command line"
        DOCK_FOLDER = "dock-folder", "dock folder"
        UPLOAD = "upload", "upload"
        DEMO = "demo", "demo data"

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="originals")
    filename = models.CharField(max_length=255, help_text="Name as received, made safe.")
    source = models.CharField(max_length=16, choices=Source.choices)
    container = models.CharField(max_length=64, blank=True)
    video_codec = models.CharField(max_length=32, blank=True)
    audio_codec = models.CharField(max_length=32, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    playable = models.BooleanField()
    problem = models.TextField(blank=True, help_text="Why the media is not playable, if so.")
    media_info = models.JSONField(default=dict, blank=True)
    ingested_at = models.DateTimeField(auto_now_add=True)
    capture_manifest_sha256 = models.CharField(
        max_length=64, blank=True, default="", db_index=True, help_text="Its signed manifest."
    )
    capture_signature = models.CharField(
        max_length=16, choices=CaptureSignature.choices, default=CaptureSignature.UNSIGNED
    )
    capture_problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["recording", "started_at", "id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.sha256[:12]})"


class Marker(models.Model):
    """A timestamped bookmark on a recording."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="markers")
    at = models.DateTimeField(help_text="Wall-clock time (UTC) the marker points at.")
    text = models.CharField(max_length=500)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recording", "at"]

    @property
    def offset_s(self) -> float:
        return (self.at - self.recording.trigger_on_at).total_seconds()


class Derivative(models.Model):
    """Something made from an Original (proxy, poster, ...), with its own hash and provenance."""

    class Kind(models.TextChoices):
        PROXY = "proxy", "browser proxy (H.264/AAC fMP4)"
        POSTER = "poster", "poster frame"
        SPRITE = "sprite", "scrub sprite sheet"
        WAVEFORM = "waveform", "waveform peaks"
        REDACTED = "redacted", "redacted copy (H.264/AAC MP4, C2PA-signed)"
        CLIP = "clip", "frame-accurate clip (MP4)"
        STILL = "still", "still frame (PNG)"
        TRANSCRIPT = "transcript", "transcript (words, times, confidences; JSON)"

    original = models.ForeignKey(Original, on_delete=models.PROTECT, related_name="derivatives")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=64)
    generator = models.CharField(max_length=64)
    generator_version = models.CharField(max_length=200)
    facts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One of each kind, except redacted copies (a recording may be released more
            # than once: press, FOI, defence), clips and stills, which reviewers make many of,
            # and transcripts (the machine's, then each person's corrected version).
            models.UniqueConstraint(
                fields=["original", "kind"],
                condition=~Q(kind__in=["redacted", "clip", "still", "transcript"]),
                name="one_derivative_per_kind",
            )
        ]
