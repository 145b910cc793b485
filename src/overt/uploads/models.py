"""Upload state: device credentials, tus uploads in flight, and what an Axis Body Worn
System has sent so far.

Bytes never live in these rows (except the few bytes of Axis bookmarks, GNSS tracks and
system objects): upload files sit under the upload directory until they are ingested.
"""

from __future__ import annotations

from django.db import models

from overt.evidence.models import Device, Officer, Original, Recording


class DeviceToken(models.Model):
    """A bearer credential for one camera or dock. Only its SHA-256 is kept."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="upload_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16, help_text="The token's first characters, to tell.")
    dock = models.BooleanField(
        default=False, help_text="May upload clips of any registered camera, not just its own."
    )
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device", "-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.device.serial})"


class Upload(models.Model):
    """One tus upload: where it is, whose it is, and how it ended."""

    class Status(models.TextChoices):
        RECEIVING = "receiving", "receiving"
        STORED = "stored", "stored as evidence"
        DUPLICATE = "duplicate", "already stored"
        QUARANTINED = "quarantined", "quarantined: hash mismatch"
        FAILED = "failed", "kept, ingest refused"
        TERMINATED = "terminated", "terminated by the client"
        EXPIRED = "expired", "expired unfinished"

    id = models.CharField(primary_key=True, max_length=32)
    principal_kind = models.CharField(max_length=8, help_text="'device' or 'user'.")
    principal = models.CharField(max_length=150, help_text="Device serial or user name.")
    token = models.ForeignKey(
        DeviceToken, on_delete=models.PROTECT, null=True, blank=True, related_name="uploads"
    )
    officer_number = models.CharField(max_length=32)
    device_serial = models.CharField(max_length=64)
    filename = models.CharField(max_length=255)
    declared_sha256 = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    metadata_header = models.TextField(blank=True, help_text="Upload-Metadata as sent.")
    metadata = models.JSONField(default=dict, blank=True)
    length = models.PositiveBigIntegerField()
    offset = models.PositiveBigIntegerField(default=0, help_text="Bytes durably written.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVING)
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the bytes received.")
    original = models.ForeignKey(
        Original, on_delete=models.PROTECT, null=True, blank=True, related_name="uploads"
    )
    problem = models.TextField(blank=True)
    lock_owner = models.CharField(max_length=200, blank=True)
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    client_address = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"upload {self.id} ({self.filename}, {self.offset}/{self.length})"

    @property
    def complete(self) -> bool:
        return self.offset == self.length


class AxisContainer(models.Model):
    """A Swift container an Axis Body Worn System made: System, Users, Devices, or one
    recording (`<UserID>_<BWCSerialNumber>_<TriggerOnTime>`)."""

    class Kind(models.TextChoices):
        SYSTEM = "system"
        USERS = "users"
        DEVICES = "devices"
        RECORDING = "recording"

    class Status(models.TextChoices):
        OPEN = "open", "transferring"
        COMPLETE = "complete", "complete, catalogued"
        FAILED = "failed", "complete, refused"

    name = models.CharField(max_length=256, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    recording = models.ForeignKey(
        Recording, on_delete=models.PROTECT, null=True, blank=True, related_name="axis_containers"
    )
    problem = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AxisObject(models.Model):
    """One object in an Axis container. Clips are staged as files until the recording is
    complete; small objects (bookmarks, GNSS tracks, system objects) keep their bytes here."""

    class Kind(models.TextChoices):
        CLIP = "clip"
        BOOKMARK = "bookmark"
        GNSS = "gnss"
        CAPABILITY = "capability"
        SYSTEM = "system"
        USER = "user"
        DEVICE = "device"
        OTHER = "other"

    container = models.ForeignKey(AxisContainer, on_delete=models.PROTECT, related_name="items")
    name = models.CharField(max_length=1024)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    metadata = models.JSONField(default=dict, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    md5 = models.CharField(max_length=32, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    content = models.BinaryField(null=True, blank=True)
    staged_path = models.CharField(max_length=500, blank=True)
    original = models.ForeignKey(
        Original, on_delete=models.PROTECT, null=True, blank=True, related_name="axis_objects"
    )
    officer = models.ForeignKey(
        Officer, on_delete=models.PROTECT, null=True, blank=True, related_name="axis_users"
    )
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, null=True, blank=True, related_name="axis_devices"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["container", "name"]
        constraints = [
            models.UniqueConstraint(fields=["container", "name"], name="one_axis_object_per_name")
        ]

    def __str__(self) -> str:
        return f"{self.container.name}/{self.name}"


class Quarantined(models.Model):
    """Bytes that failed a check on arrival, kept read-only in the quarantine folder.

    Nothing here is catalogued as evidence; nothing here is ever deleted by overt.
    """

    class Reason(models.TextChoices):
        UPLOAD_SHA256 = "upload-sha256", "whole upload does not match its declared SHA-256"
        CHUNK_CHECKSUM = "chunk-checksum", "tus chunk does not match its Upload-Checksum"
        OBJECT_ETAG = "object-etag", "Swift object does not match its ETag (MD5)"
        REPLACED = "replaced", "Swift object replaced before its recording was complete"

    reason = models.CharField(max_length=16, choices=Reason.choices)
    path = models.CharField(max_length=500)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, help_text="Of the quarantined bytes.")
    expected = models.CharField(max_length=200, help_text="What the sender declared.")
    actual = models.CharField(max_length=200, help_text="What the bytes hash to.")
    upload = models.ForeignKey(
        Upload, on_delete=models.PROTECT, null=True, blank=True, related_name="quarantined"
    )
    upload_offset = models.PositiveBigIntegerField(null=True, blank=True)
    axis_object = models.CharField(max_length=1300, blank=True, help_text="container/object")
    principal = models.CharField(max_length=160, help_text="Who sent them (kind:id).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "quarantined"

    def __str__(self) -> str:
        return f"{self.reason}: {self.path}"
