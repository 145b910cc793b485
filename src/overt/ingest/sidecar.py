"""The ingest sidecar: a JSON file that travels with a camera file and says who wore
the camera, when it triggered, where, and what was bookmarked.

The schema is documented in docs/ingest.md; `schema` must be "overt.sidecar/1".
Unknown keys are refused so a misspelt field is an error, not silently lost context.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

SCHEMA_ID = "overt.sidecar/1"
MAX_SIDECAR_BYTES = 4 << 20


class SidecarError(ValueError):
    """The sidecar is unreadable or breaks the schema; the message says where."""


def safe_name(value: str, what: str = "name") -> str:
    """A plain file or container name: no directories, no traversal, no control chars."""
    if not value or value in {".", ".."} or "/" in value or "\\" in value or "\x00" in value:
        raise ValueError(f"{what} must be a plain name without directories: {value!r}")
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
        raise ValueError(f"{what} contains control characters: {value!r}")
    if len(value.encode("utf-8")) > 255:
        raise ValueError(f"{what} is longer than 255 bytes")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class GeoPoint(_Strict):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class TrackPoint(GeoPoint):
    t: AwareDatetime


class MarkerIn(_Strict):
    at: AwareDatetime
    text: Annotated[str, Field(min_length=1, max_length=500)]


class RecordingIn(_Strict):
    trigger_on_at: AwareDatetime
    trigger_off_at: AwareDatetime | None = None
    trigger_on_reason: Annotated[str, Field(max_length=64)] = ""
    trigger_off_reason: Annotated[str, Field(max_length=64)] = ""
    pre_event_seconds: Annotated[int, Field(ge=0, le=600)] = 0
    incident: Annotated[str, Field(max_length=64)] = ""
    title: Annotated[str, Field(max_length=200)] = ""
    location: GeoPoint | None = None
    gps_track: list[TrackPoint] = Field(default_factory=list, max_length=100_000)


class ClipIn(_Strict):
    started_at: AwareDatetime | None = None
    stopped_at: AwareDatetime | None = None
    filename: str | None = None

    @field_validator("filename")
    @classmethod
    def _plain_filename(cls, value: str | None) -> str | None:
        return None if value is None else safe_name(value, "clip.filename")


class Sidecar(_Strict):
    schema_: Literal["overt.sidecar/1"] = Field(alias="schema")
    officer: Annotated[str, Field(max_length=32)] | None = None
    device: Annotated[str, Field(max_length=64)] | None = None
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    recording: RecordingIn | None = None
    clip: ClipIn = Field(default_factory=ClipIn)
    markers: list[MarkerIn] = Field(default_factory=list, max_length=10_000)
    categories: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )


def parse_sidecar(raw: bytes, origin: str = "sidecar") -> Sidecar:
    if len(raw) > MAX_SIDECAR_BYTES:
        raise SidecarError(f"{origin}: larger than {MAX_SIDECAR_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SidecarError(f"{origin}: not valid UTF-8 at byte {exc.start}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SidecarError(f"{origin}: not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    try:
        return Sidecar.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise SidecarError(f"{origin}: {problems}") from exc


def read_sidecar(path: Path) -> Sidecar:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SidecarError(f"cannot read sidecar {path}: {exc.strerror}") from exc
    return parse_sidecar(raw, str(path))


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
