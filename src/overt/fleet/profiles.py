"""Named settings profiles and which camera gets which: its own, else its model's, else
the profile named `default`, else the built-in defaults (version 0).

A profile's version is taken from one sequence over all profiles at every change, so the
version a camera reports applying says exactly which settings it runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max

from overt import errors
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Device

from .models import RESOLUTIONS, DeviceProfile, FleetDevice, ModelProfile

DEFAULT_NAME = "default"
SETTING_KEYS = (
    "buffer_seconds",
    "audio_in_buffer",
    "resolution",
    "segment_seconds",
    "peer_group",
    "offload_bandwidth_kbps",
)


@dataclass(frozen=True)
class Config:
    version: int
    profile: str
    settings: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"version": self.version, "profile": self.profile, "settings": self.settings}


BUILT_IN = Config(
    0,
    "built-in",
    {
        "buffer_seconds": 30,
        "audio_in_buffer": False,
        "resolution": "1920x1080",
        "segment_seconds": 300,
        "peer_group": None,
        "offload_bandwidth_kbps": None,
    },
)


def config_of(profile: DeviceProfile | None) -> Config:
    if profile is None:
        return BUILT_IN
    return Config(
        profile.version,
        profile.name,
        {
            "buffer_seconds": profile.buffer_seconds,
            "audio_in_buffer": profile.audio_in_buffer,
            "resolution": profile.resolution,
            "segment_seconds": profile.segment_seconds,
            "peer_group": profile.peer_group or None,
            "offload_bandwidth_kbps": profile.offload_bandwidth_kbps,
        },
    )


class Resolver:
    """Which profile applies to each camera, with the model and default rows read once."""

    def __init__(self) -> None:
        self.by_model = {
            row.model: row.profile for row in ModelProfile.objects.select_related("profile")
        }
        self.default = DeviceProfile.objects.filter(name=DEFAULT_NAME).first()

    def profile_for(self, device: Device, fleet: FleetDevice | None) -> DeviceProfile | None:
        if fleet is not None and fleet.profile_id is not None:
            return fleet.profile
        return self.by_model.get(device.model) or self.default


def check_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The settings, checked (pure): Invalid names the first one out of bounds."""
    unknown = sorted(set(values) - set(SETTING_KEYS))
    if unknown:
        raise errors.Invalid(f"unknown setting(s): {', '.join(unknown)}", field=unknown[0])
    out = dict(values)
    if out.get("offload_bandwidth_kbps") in ("", None) and "offload_bandwidth_kbps" in out:
        out["offload_bandwidth_kbps"] = None  # no limit
    bounds = {
        "buffer_seconds": (0, 120),
        "segment_seconds": (10, 3600),
        "offload_bandwidth_kbps": (1, 10_000_000),
    }
    for key, (lo, hi) in bounds.items():
        if out.get(key) is None:
            if key in out and key != "offload_bandwidth_kbps":
                raise errors.Invalid(f"{key} must be a whole number", field=key)
            continue
        try:
            number = int(out[key])
        except (TypeError, ValueError):
            raise errors.Invalid(f"{key} must be a whole number", field=key) from None
        if not lo <= number <= hi:
            raise errors.Invalid(f"{key} must be between {lo} and {hi}", field=key)
        out[key] = number
    if "resolution" in out and out["resolution"] not in RESOLUTIONS:
        raise errors.Invalid(
            f"resolution must be one of {', '.join(RESOLUTIONS)}", field="resolution"
        )
    if "audio_in_buffer" in out:
        out["audio_in_buffer"] = out["audio_in_buffer"] in (True, "true", "on", "1", 1)
    if "peer_group" in out:
        out["peer_group"] = str(out["peer_group"] or "")[:64]
    return out


def save_profile(name: str, values: dict[str, Any], *, by: Actor) -> DeviceProfile:
    """Create or change profile `name`; it takes the next version. A custody entry."""
    name = name.strip()
    if not name or len(name) > 64:
        raise errors.Invalid("a profile needs a name of 1-64 characters", field="name")
    settings = check_settings(values)
    with transaction.atomic():
        # The sequence: lock every profile row so two saves never take one version.
        top = DeviceProfile.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
        profile, created = DeviceProfile.objects.get_or_create(
            name=name, defaults={**settings, "version": top + 1}
        )
        if not created:
            for key, value in settings.items():
                setattr(profile, key, value)
            profile.version = top + 1
            profile.save()
        record(
            "config-change",
            by,
            Subject("", {"device-profile": name}),
            details={
                "change": "device-profile-saved",
                "profile": name,
                "version": profile.version,
                "settings": config_of(profile).settings,
            },
        )
    return profile


def _profile_named(name: str | None) -> DeviceProfile | None:
    if not name:
        return None
    profile = DeviceProfile.objects.filter(name=name).first()
    if profile is None:
        raise errors.NotFound(f"no device profile {name!r}")
    return profile


def assign_profile_to_devices(serials: list[str], name: str | None, *, by: Actor) -> int:
    """Give these cameras profile `name` (None: back to their model's or the default)."""
    profile = _profile_named(name)
    with transaction.atomic():
        devices = list(Device.objects.filter(serial__in=serials))
        missing = sorted(set(serials) - {d.serial for d in devices})
        if missing:
            raise errors.NotFound(f"no device {missing[0]!r}")
        for device in devices:
            FleetDevice.objects.update_or_create(device=device, defaults={"profile": profile})
        record(
            "config-change",
            by,
            Subject("", {"devices": ",".join(sorted(serials))}),
            details={
                "change": "device-profile-assigned",
                "devices": sorted(serials),
                "profile": name,
            },
        )
    return len(devices)


def assign_profile_to_model(model: str, name: str | None, *, by: Actor) -> None:
    """Every camera of `model` without a profile of its own gets profile `name` (None: none)."""
    profile = _profile_named(name)
    if not model.strip():
        raise errors.Invalid("name the camera model", field="model")
    with transaction.atomic():
        if profile is None:
            ModelProfile.objects.filter(model=model).delete()
        else:
            ModelProfile.objects.update_or_create(model=model, defaults={"profile": profile})
        record(
            "config-change",
            by,
            Subject("", {"device-model": model}),
            details={"change": "model-profile-assigned", "model": model, "profile": name},
        )
