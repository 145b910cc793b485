"""The agent's settings: one typed dataclass, every field with a title, a description and
bounds; unknown keys are refused (in config.json and in config pushed by the server).

Settings are data: docs/camera.md lists every field, and a test fails when one is not.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
RESOLUTION_RE = re.compile(r"^([0-9]{2,4})x([0-9]{2,4})$")


class ConfigError(ValueError):
    """A setting that is unknown, of the wrong type or out of bounds; the message says which."""


def _meta(title: str, description: str, **bounds: Any) -> dict[str, Any]:
    return {"title": title, "description": description, **bounds}


def _f(default: Any, title: str, description: str, **bounds: Any) -> Any:
    return field(default=default, metadata=_meta(title, description, **bounds))


@dataclass(frozen=True)
class AgentConfig:
    serial: str | None = _f(None, "Serial", "The device's serial, as added on the server.")
    server: str | None = _f(None, "Server", "Base URL of the overt server (set at enrolment).")
    server_ca: str | None = _f(
        None,
        "Server CA",
        "PEM file of the CA that signs the server's TLS certificate; the system CAs when unset.",
    )
    buffer_seconds: int = _f(
        30, "Pre-event buffer", "Seconds of video kept before a trigger.", min=0, max=120
    )
    audio_in_buffer: bool = _f(
        False, "Audio in buffer", "Keep audio in the pre-event buffer too (video only when off)."
    )
    encrypt_at_rest: bool = _f(
        False,
        "Encryption at rest",
        "Seal segments (and the pre-event ring) with AES-256-GCM so that only the server "
        "can read them (needs the server's key from enrolment).",
    )
    ring_max_bytes: int = _f(
        160 * MIB,
        "Buffer byte cap",
        "Most bytes the pre-event ring holds; the oldest packets go first.",
        min=1 * MIB,
        max=1024 * MIB,
    )
    resolution: str = _f(
        "640x360", "Resolution", "WIDTHxHEIGHT of encoded sources (synthetic, v4l2)."
    )
    fps: int = _f(15, "Frame rate", "Frames per second of encoded sources.", min=1, max=60)
    bitrate_kbps: int = _f(
        1200, "Bitrate", "Target H.264 bitrate of encoded sources, kbit/s.", min=100, max=50000
    )
    keyframe_seconds: float = _f(
        1.0,
        "Keyframe interval",
        "Seconds between keyframes of encoded sources (a fragment closes at each).",
        min=0.2,
        max=1.0,
    )
    segment_seconds: int = _f(
        1800,
        "Segment length",
        "A recording is split into segments of this many seconds.",
        min=5,
        max=14400,
    )
    max_recording_seconds: int = _f(
        0,
        "Timer stop",
        "Stop a recording after this many seconds (0: only a manual stop).",
        min=0,
        max=86400,
    )
    min_free_bytes: int = _f(
        64 * MIB,
        "Disk reserve",
        "Recording stops (status error) when free space falls below this.",
        min=0,
        max=1 << 40,
    )
    audio_source: str | None = _f(
        None, "Audio source", "A microphone as alsa:DEVICE (alsa:default); none when unset."
    )
    location: str = _f(
        "none",
        "Location source",
        "none, synthetic, nmea:PATH (serial port or file) or gpsd[:HOST:PORT].",
    )
    control: str = _f(
        "127.0.0.1:8642",
        "Control address",
        "HOST:PORT of the local control API; loopback only (port 0 picks one).",
    )
    offload_interval_seconds: float = _f(
        10.0,
        "Offload interval",
        "Seconds between attempts to reach the server in auto mode.",
        min=1.0,
        max=3600.0,
    )
    offload_bandwidth_kbps: int | None = _f(
        None,
        "Offload bandwidth cap",
        "Most kbit/s an offload sends; no cap when unset.",
        min=1,
        max=10_000_000,
    )
    offload_chunk_bytes: int = _f(
        8 * MIB,
        "Upload chunk",
        "Bytes per tus PATCH (each checksummed).",
        min=64 * 1024,
        max=256 * MIB,
    )
    http_timeout_seconds: float = _f(
        30.0,
        "HTTP timeout",
        "Seconds before a request to the server is given up.",
        min=1.0,
        max=600.0,
    )
    peer_group: str | None = _f(
        None, "Peer group", "Name of the peer-start group; peer start is off when unset."
    )
    multicast_group: str = _f(
        "239.255.42.99", "Multicast group", "IPv4 multicast group of peer-start events."
    )
    multicast_port: int = _f(
        5042, "Multicast port", "UDP port of peer-start events.", min=1, max=65535
    )
    multicast_interface: str = _f(
        "0.0.0.0",  # noqa: S104 - INADDR_ANY picks the interface to join on, binds nothing
        "Multicast interface",
        "IPv4 address of the interface to send and join on (127.0.0.1 for loopback).",
    )
    peer_unicast: list[str] = field(
        default_factory=list,
        metadata=_meta(
            "Unicast peers",
            "HOST:PORT list to send peer starts to as well, where multicast is not routed.",
        ),
    )
    gpio_chip: str | None = _f(
        None, "GPIO chip", "gpiod chip of the record button (/dev/gpiochip0); no button when unset."
    )
    gpio_line: int = _f(
        17,
        "GPIO line",
        "Line offset of the record button (a press toggles start/stop).",
        min=0,
        max=1023,
    )
    trigger_plugins: list[str] = field(
        default_factory=list,
        metadata=_meta(
            "Trigger plugins", "module:Class trigger transports to load (see docs/camera.md)."
        ),
    )
    config_version: int | None = _f(
        None,
        "Config version",
        "Version of the last config applied from the server.",
        min=0,
        max=1 << 62,
    )

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            _check(item, getattr(self, item.name))
        if not RESOLUTION_RE.match(self.resolution):
            raise ConfigError(f"resolution: {self.resolution!r} is not WIDTHxHEIGHT")
        width, height = self.size
        if not (16 <= width <= 3840 and 16 <= height <= 2160) or width % 2 or height % 2:
            raise ConfigError(f"resolution: {self.resolution} must be even, 16x16 .. 3840x2160")
        loc = self.location
        if not (loc in ("none", "synthetic", "gpsd") or loc.startswith(("nmea:", "gpsd:"))):
            raise ConfigError(f"location: {loc!r} is not none, synthetic, nmea:PATH or gpsd")

    @property
    def size(self) -> tuple[int, int]:
        match = RESOLUTION_RE.match(self.resolution)
        assert match is not None
        return int(match.group(1)), int(match.group(2))

    def replace(self, **changes: Any) -> AgentConfig:
        return from_dict({**to_dict(self), **changes})


def _check(item: dataclasses.Field[Any], value: Any) -> None:
    kind = str(item.type)
    name = item.name
    optional = "None" in kind
    if value is None:
        if not optional:
            raise ConfigError(f"{name}: required")
        return
    if kind.startswith("list"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name}: must be a list of strings")
        return
    expected: tuple[type, ...]
    if kind.startswith("bool"):
        expected = (bool,)
    elif kind.startswith("int"):
        expected = (int,)
    elif kind.startswith("float"):
        expected = (int, float)
    else:
        expected = (str,)
    if not isinstance(value, expected) or (bool not in expected and isinstance(value, bool)):
        raise ConfigError(f"{name}: must be {kind.replace(' | None', '')}, not {value!r}")
    low, high = item.metadata.get("min"), item.metadata.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{name}: {value} is outside {low} .. {high}")
    if isinstance(value, str) and (not value.strip() or len(value) > 1024):
        raise ConfigError(f"{name}: must be a non-empty string of at most 1024 characters")


FIELDS = {item.name: item for item in dataclasses.fields(AgentConfig)}


def from_dict(values: dict[str, Any]) -> AgentConfig:
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    return AgentConfig(**values)


def to_dict(config: AgentConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def load(path: Path) -> AgentConfig:
    if not path.exists():
        return AgentConfig()
    try:
        values = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: must hold a JSON object")
    try:
        return from_dict(values)
    except (ConfigError, TypeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


# What the server's GET /api/device/config/ may set (CAMERA_PROTOCOL.md), by agent field.
SERVER_SETTINGS = (
    "buffer_seconds",
    "audio_in_buffer",
    "resolution",
    "segment_seconds",
    "peer_group",
    "offload_bandwidth_kbps",
)


def apply_server_config(config: AgentConfig, answer: Any) -> AgentConfig:
    """The server's config answer applied; a malformed or unknown setting refuses it all."""
    if not isinstance(answer, dict) or not isinstance(answer.get("settings"), dict):
        raise ConfigError("server config: expected {version, profile, settings}")
    version = answer.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError("server config: version must be an integer")
    settings: dict[str, Any] = answer["settings"]
    unknown = sorted(set(settings) - set(SERVER_SETTINGS))
    if unknown:
        raise ConfigError(f"server config: unknown setting(s): {', '.join(unknown)}")
    return config.replace(**settings, config_version=version)
