"""Signed at the lens (issue 13): the keys a camera signs with, the one-time codes that
enrol it, and the manifests it sends with its segments.

A device keeps every key it ever had here, each with the window in which it was the
device's key, so footage signed before a re-enrolment still verifies. Codes are kept only
as a keyed hash. Manifests are kept as the exact bytes received, even when their signature
does not hold: they are evidence too.
"""

from __future__ import annotations

from django.db import models

from overt.evidence.models import Device, Original


class DeviceKey(models.Model):
    """An Ed25519 public key of a camera, valid from its enrolment until it was replaced
    (a later enrolment) or the device was revoked."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="capture_keys")
    key_id = models.CharField(max_length=16, help_text="First 16 hex of SHA-256(public key).")
    public_key = models.CharField(max_length=64, help_text="Raw 32-byte key, hex.")
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    retired_because = models.CharField(max_length=64, blank=True)
    agent_version = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["device", "valid_from", "id"]
        constraints = [
            models.UniqueConstraint(fields=["device", "key_id"], name="one_key_id_per_device")
        ]

    def __str__(self) -> str:
        return f"{self.device.serial} key {self.key_id}"


class EnrolmentCode(models.Model):
    """A one-time enrolment code for a camera; only its keyed hash is kept."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="enrolment_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(
        null=True, blank=True, help_text="A newer code for the device, or its revocation."
    )
    key = models.ForeignKey(
        DeviceKey, on_delete=models.PROTECT, null=True, blank=True, related_name="codes"
    )

    class Meta:
        ordering = ["-created_at"]


class EnrolmentAttempt(models.Model):
    """A refused enrolment, counted to rate-limit guessing (by address and by serial)."""

    address = models.CharField(max_length=64, db_index=True)
    serial = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(db_index=True)


class CaptureManifest(models.Model):
    """A segment manifest exactly as a camera sent it, with its signature and what it says."""

    sha256 = models.CharField(max_length=64, unique=True, help_text="Of the manifest's bytes.")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="capture_manifests")
    body = models.BinaryField(help_text="The exact bytes signed.")
    signature = models.BinaryField()
    signature_ok = models.BooleanField(help_text="Verified, when received, by a device key.")
    problem = models.TextField(blank=True, help_text="Why it does not hold, if so.")
    key_id = models.CharField(max_length=16, blank=True)
    recording_id = models.CharField(max_length=64, blank=True, db_index=True)
    segment = models.PositiveIntegerField(null=True, blank=True)
    device_sequence = models.PositiveIntegerField(null=True, blank=True)
    ends_recording = models.BooleanField(default=False, help_text="final or interrupted")
    segment_sha256 = models.CharField(max_length=64, blank=True)
    received_by = models.CharField(max_length=150, help_text="Which token sent it (prefix).")
    received_at = models.DateTimeField(auto_now_add=True)
    original = models.ForeignKey(
        Original,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="capture_manifests",
    )

    class Meta:
        ordering = ["device", "device_sequence", "segment", "id"]
        indexes = [models.Index(fields=["device", "device_sequence"])]

    def __str__(self) -> str:
        return f"manifest {self.sha256[:12]} ({self.device.serial})"
