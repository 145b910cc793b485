"""Parsing the tus headers a client controls: Upload-Metadata, Upload-Length, Upload-Offset
and Upload-Checksum. Every refusal says which header and why."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from overt.errors import Invalid
from overt.ingest.sidecar import safe_name
from overt.ingest.times import CaptureTimeError, parse_capture_time

MAX_METADATA_HEADER = 8 * 1024  # the whole header, as sent
MAX_METADATA_VALUE = 1024  # one decoded value
MAX_METADATA_PAIRS = 32
KEY_RE = re.compile(r"^[!-+\--~]+$")  # printable ASCII without space and comma
BYTE_COUNT_RE = re.compile(r"^[0-9]{1,19}$")
CHECKSUM_ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}

# The keys overt reads; any other key is kept (and echoed back) but not used.
KNOWN_KEYS = {
    "filename": "the clip's file name (a plain name, no directories)",
    "device": "serial number of the camera that recorded it",
    "officer": "warrant or collar number of the officer who wore it",
    "sha256": "the SHA-256 of the whole file, 64 hex digits",
    "started_at": "when the clip started, RFC 3339 with a time zone (2000 .. now + 1 day)",
    "stopped_at": "when the clip stopped, RFC 3339 with a time zone (2000 .. now + 1 day)",
    "capture-manifest": "an overt camera segment's signed manifest: its SHA-256, 64 hex digits",
    "capture-recording": "an overt camera's id for the recording the segment belongs to",
}


@dataclass(frozen=True)
class ClipMetadata:
    raw: str
    values: dict[str, str]
    filename: str | None
    device: str | None
    officer: str | None
    sha256: str | None
    started_at: datetime | None
    stopped_at: datetime | None


def parse_metadata(header: str | None) -> ClipMetadata:
    raw = header or ""
    if len(raw) > MAX_METADATA_HEADER:
        raise Invalid(f"Upload-Metadata is longer than {MAX_METADATA_HEADER} bytes")
    values: dict[str, str] = {}
    if raw.strip():
        pairs = raw.split(",")
        if len(pairs) > MAX_METADATA_PAIRS:
            raise Invalid(f"Upload-Metadata has more than {MAX_METADATA_PAIRS} keys")
        for pair in pairs:
            key, value = _pair(pair.strip())
            if key in values:
                raise Invalid(f"Upload-Metadata repeats the key {key!r}")
            values[key] = value
    filename = values.get("filename")
    if filename is not None:
        try:
            filename = safe_name(filename, "Upload-Metadata filename")
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
    sha256 = values.get("sha256")
    if sha256 is not None:
        sha256 = sha256.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise Invalid("Upload-Metadata sha256 must be 64 hex digits")
    manifest = values.get("capture-manifest")
    if manifest is not None and not re.fullmatch(r"[0-9a-f]{64}", manifest):
        raise Invalid("Upload-Metadata capture-manifest must be 64 lowercase hex digits")
    if manifest is not None and "capture-recording" not in values:
        raise Invalid("Upload-Metadata capture-manifest needs capture-recording too")
    _short(values, "capture-recording", 64)
    started = _time(values, "started_at")
    stopped = _time(values, "stopped_at")
    if started and stopped and stopped < started:
        raise Invalid("Upload-Metadata stopped_at is before started_at")
    return ClipMetadata(
        raw=raw,
        values=values,
        filename=filename,
        device=_short(values, "device", 64),
        officer=_short(values, "officer", 32),
        sha256=sha256,
        started_at=started,
        stopped_at=stopped,
    )


def _pair(pair: str) -> tuple[str, str]:
    if not pair:
        raise Invalid("Upload-Metadata has an empty key-value pair")
    key, _, encoded = pair.partition(" ")
    if not KEY_RE.match(key):
        raise Invalid(f"Upload-Metadata key {key[:64]!r} is not printable ASCII")
    encoded = encoded.strip()
    try:
        decoded = base64.b64decode(encoded, validate=True) if encoded else b""
    except (binascii.Error, ValueError) as exc:
        raise Invalid(f"Upload-Metadata value of {key!r} is not Base64") from exc
    if len(decoded) > MAX_METADATA_VALUE:
        raise Invalid(f"Upload-Metadata value of {key!r} is longer than {MAX_METADATA_VALUE} bytes")
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"Upload-Metadata value of {key!r} is not UTF-8") from exc
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in text):
        raise Invalid(f"Upload-Metadata value of {key!r} contains control characters")
    return key, text


def _short(values: dict[str, str], key: str, limit: int) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise Invalid(f"Upload-Metadata {key} is empty")
    if len(value) > limit:
        raise Invalid(f"Upload-Metadata {key} is longer than {limit} characters")
    return value


def _time(values: dict[str, str], key: str) -> datetime | None:
    value = values.get(key)
    if value is None:
        return None
    return parse_rfc3339(value, f"Upload-Metadata {key}")


def parse_rfc3339(value: str, what: str) -> datetime:
    """A capture time, checked by the one rule every door uses (overt.ingest.times)."""
    try:
        return parse_capture_time(value, what)
    except CaptureTimeError as exc:
        raise Invalid(str(exc)) from exc


def byte_count(value: str | None, header: str) -> int | None:
    if value is None:
        return None
    if not BYTE_COUNT_RE.match(value.strip()):
        raise Invalid(f"{header} must be a non-negative integer, not {value[:40]!r}")
    return int(value.strip())


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes

    def new(self) -> hashlib._Hash:
        return CHECKSUM_ALGORITHMS[self.algorithm]()


def parse_checksum(value: str | None) -> Checksum | None:
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise Invalid(
            f"Upload-Checksum algorithm {algorithm[:20]!r} is not supported "
            f"(use one of {', '.join(sorted(CHECKSUM_ALGORITHMS))})",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("Upload-Checksum digest is not Base64") from exc
    if len(digest) != CHECKSUM_ALGORITHMS[algorithm]().digest_size:
        raise Invalid(f"Upload-Checksum {algorithm} digest has the wrong length")
    return Checksum(algorithm, digest)


def now_utc() -> datetime:
    return datetime.now(UTC)
