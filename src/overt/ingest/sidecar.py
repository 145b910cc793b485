"""The ingest sidecar: a JSON file that travels with a camera file and says who wore
the camera, when it triggered, where, and what was bookmarked.

The schema is documented in docs/ingest.md; `schema` must be "overt.sidecar/1".
Unknown keys are refused so a misspelt field is an error, not silently lost context.
Whatever the bytes, parse_sidecar() either returns a Sidecar or raises SidecarError
(tests/ingest/test_sidecar_fuzz.py holds it to that): every time is checked against
overt.ingest.times, nesting is bounded, and text must be encodable as UTF-8.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from overt import errors

from .times import CaptureTimeError, check_capture_time, parse_capture_time

SCHEMA_ID = "overt.sidecar/1"
MAX_SIDECAR_BYTES = 4 << 20
# The schema is four levels deep; anything far deeper is not a sidecar (and a deep enough
# document would exhaust Python's recursion limit in the JSON decoder or the validator).
MAX_SIDECAR_DEPTH = 16


class SidecarError(errors.Invalid, ValueError):
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


def _capture_time(value: object) -> datetime:
    """A sidecar time: an RFC 3339 string with a zone, within overt's capture-time range."""
    if isinstance(value, datetime):  # built in code (tus, Axis) rather than parsed
        return check_capture_time(value)
    if not isinstance(value, str):
        raise CaptureTimeError(f"a time must be an RFC 3339 string, not {type(value).__name__}")
    return parse_capture_time(value)


CaptureTime = Annotated[datetime, BeforeValidator(_capture_time)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class GeoPoint(_Strict):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class TrackPoint(GeoPoint):
    t: CaptureTime


class MarkerIn(_Strict):
    at: CaptureTime
    text: Annotated[str, Field(min_length=1, max_length=500)]


class RecordingIn(_Strict):
    trigger_on_at: CaptureTime
    trigger_off_at: CaptureTime | None = None
    trigger_on_reason: Annotated[str, Field(max_length=64)] = ""
    trigger_off_reason: Annotated[str, Field(max_length=64)] = ""
    pre_event_seconds: Annotated[int, Field(ge=0, le=600)] = 0
    incident: Annotated[str, Field(max_length=64)] = ""
    title: Annotated[str, Field(max_length=200)] = ""
    location: GeoPoint | None = None
    gps_track: list[TrackPoint] = Field(default_factory=list, max_length=100_000)

    @model_validator(mode="after")
    def _off_after_on(self) -> RecordingIn:
        if self.trigger_off_at is not None and self.trigger_off_at < self.trigger_on_at:
            raise ValueError("trigger_off_at is before trigger_on_at")
        return self


class ClipIn(_Strict):
    started_at: CaptureTime | None = None
    stopped_at: CaptureTime | None = None
    filename: str | None = None

    @field_validator("filename")
    @classmethod
    def _plain_filename(cls, value: str | None) -> str | None:
        return None if value is None else safe_name(value, "clip.filename")

    @model_validator(mode="after")
    def _stop_after_start(self) -> ClipIn:
        if self.started_at and self.stopped_at and self.stopped_at < self.started_at:
            raise ValueError("stopped_at is before started_at")
        return self


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
    except RecursionError as exc:
        raise SidecarError(f"{origin}: nested deeper than {MAX_SIDECAR_DEPTH} levels") from exc
    except ValueError as exc:  # e.g. an integer longer than Python will convert
        raise SidecarError(f"{origin}: not usable JSON: {exc}") from exc
    _check_shape(data, origin)
    try:
        return Sidecar.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise SidecarError(f"{origin}: {problems}") from exc


def _check_shape(data: object, origin: str) -> None:
    """Bound the nesting and refuse text the database could not store (lone surrogates,
    which JSON's \\ud800 escapes allow), without recursion."""
    pending: list[tuple[object, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_SIDECAR_DEPTH:
            raise SidecarError(f"{origin}: nested deeper than {MAX_SIDECAR_DEPTH} levels")
        if isinstance(value, dict):
            pending.extend((key, depth + 1) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise SidecarError(
                    f"{origin}: text holds an unpaired surrogate (\\u{ord(value[exc.start]):04x})"
                ) from exc


def read_sidecar(path: Path) -> Sidecar:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SidecarError(f"cannot read sidecar {path}: {exc.strerror}") from exc
    return parse_sidecar(raw, str(path))


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
