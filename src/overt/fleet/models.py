"""What the fleet stage keeps beside the evidence catalogue's Device and DeviceAssignment:
the last status each camera reported, the tag ids a kiosk's reader types, and the named
settings profiles pushed to cameras at the dock."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from overt.evidence.models import Device, Officer

RESOLUTIONS = ("1920x1080", "1280x720", "960x540", "640x360")


class DeviceProfile(models.Model):
    """Named camera settings. `version` comes from one sequence over all profiles and is
    taken anew at every change, so a (profile, version) pair never means two things."""

    name = models.CharField(max_length=64, unique=True)
    buffer_seconds = models.PositiveIntegerField(
        default=30, validators=[MaxValueValidator(120)], help_text="Pre-event buffer, 0-120 s."
    )
    audio_in_buffer = models.BooleanField(default=False)
    resolution = models.CharField(
        max_length=16, default="1920x1080", choices=[(r, r) for r in RESOLUTIONS]
    )
    segment_seconds = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(10), MaxValueValidator(3600)]
    )
    peer_group = models.CharField(max_length=64, blank=True, default="")
    offload_bandwidth_kbps = models.PositiveIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class ModelProfile(models.Model):
    """The profile for every camera of a model that has none of its own."""

    model = models.CharField(max_length=100, unique=True)
    profile = models.ForeignKey(DeviceProfile, on_delete=models.PROTECT, related_name="models")


class FleetDevice(models.Model):
    """One camera's fleet facts: its tag, its own profile, and its last report."""

    device = models.OneToOneField(
        Device, on_delete=models.CASCADE, primary_key=True, related_name="fleet"
    )
    tag_id = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        help_text="What the kiosk's RFID/NFC reader types for it.",
    )
    profile = models.ForeignKey(
        DeviceProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="devices"
    )
    agent_version = models.CharField(max_length=64, blank=True)
    battery_percent = models.FloatField(null=True, blank=True)
    charging = models.BooleanField(null=True, blank=True)
    free_bytes = models.BigIntegerField(null=True, blank=True)
    pending_segments = models.PositiveIntegerField(default=0)
    pending_bytes = models.BigIntegerField(default=0)
    clock_offset_s = models.FloatField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    config_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The config version it applied."
    )
    reported_at = models.DateTimeField(null=True, blank=True, help_text="Device clock.")
    last_dock_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_config_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["device__serial"]


class OfficerTag(models.Model):
    """An officer's warrant card or fob id, as a kiosk reader types it."""

    officer = models.OneToOneField(Officer, on_delete=models.CASCADE, related_name="fleet_tag")
    tag_id = models.CharField(max_length=64, unique=True)
