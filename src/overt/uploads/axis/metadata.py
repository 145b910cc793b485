"""Swift metadata as a Body Worn System sends it: `X-<Type>-Meta-*` headers parsed and
checked, the times they carry (in the one range overt.ingest.times sets for every door),
and the contents of bookmark and GNSS track objects. Every refusal is a 400."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from overt.errors import DomainError, Invalid
from overt.ingest.times import (
    CaptureTimeError,
    NotRFC3339,
    check_capture_time,
    parse_capture_time,
)

from ..models import AxisObject
from ..tusmeta import parse_rfc3339

MAX_META_VALUE = 256  # bytes, decoded; the spec's longest is 100
MAX_META_KEYS = 64


def parse_meta(headers: dict[str, str], prefix: str) -> dict[str, str]:
    """`X-<Type>-Meta-*` headers (lower-case names) as {key (lower case): decoded value}."""
    meta: dict[str, str] = {}
    for name, raw in headers.items():
        if not name.startswith(prefix):
            continue
        key = name[len(prefix) :]
        if not key:
            raise Invalid(f"empty metadata key in {name}")
        try:
            value = unquote(raw.strip(), encoding="utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            raise Invalid(f"{name}: not URL-encoded UTF-8") from exc
        if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in value):
            raise Invalid(f"{name}: control characters are not allowed")
        if len(value.encode("utf-8")) > MAX_META_VALUE:
            raise Invalid(f"{name}: longer than {MAX_META_VALUE} bytes")
        meta[key] = value
    if len(meta) > MAX_META_KEYS:
        raise Invalid(f"more than {MAX_META_KEYS} metadata keys")
    return meta


def meta_headers(meta: dict[str, str], prefix: str) -> list[tuple[str, str]]:
    return [
        (prefix + "-".join(p.capitalize() for p in k.split("-")), quote(v, safe=" :.,;@+-_"))
        for k, v in sorted(meta.items())
    ]


# --- times -------------------------------------------------------------------------------


def parse_time(meta: dict[str, str], iso_key: str, epoch_key: str, what: str) -> datetime | None:
    """A time from the ISO key, else the epoch key; 400 for an impossible one (the range
    is overt.ingest.times's, the same for every door)."""
    when = None
    if meta.get(iso_key):
        try:
            when = parse_capture_time(meta[iso_key], what)
        except NotRFC3339 as exc:  # some systems write it otherwise: the epoch key decides
            if not meta.get(epoch_key):
                raise Invalid(str(exc)) from exc
        except CaptureTimeError as exc:  # written right, but impossible
            raise Invalid(str(exc)) from exc
    if when is None and meta.get(epoch_key):
        raw = meta[epoch_key].strip()
        if not re.fullmatch(r"\d{1,16}(\.\d{1,9})?", raw):
            raise Invalid(f"{what} is not a time: {raw!r}")
        seconds = float(raw)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000.0
        try:
            when = check_capture_time(datetime.fromtimestamp(seconds, UTC), what)
        except (OverflowError, OSError, ValueError) as exc:
            raise Invalid(f"{what} is out of range: {raw!r} ({exc})") from exc
    return when


def trigger_times(meta: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    """A recording container's TriggerOnTime and TriggerOffTime (either may be absent)."""
    on = parse_time(meta, "triggerontimeiso", "triggerontime", "TriggerOnTime")
    off = parse_time(meta, "triggerofftimeiso", "triggerofftime", "TriggerOffTime")
    return on, off


def check_trigger_times(meta: dict[str, str]) -> None:
    on, off = trigger_times(meta)
    if on and off and off < on:
        raise Invalid("TriggerOffTime is before TriggerOnTime")


def check_object_times(kind: str, name: str, meta: dict[str, str]) -> None:
    """400 for an impossible clip or bookmark time, before any byte is kept: these
    times are read again at completion, where a failure would refuse the recording."""
    if kind == AxisObject.Kind.CLIP:
        start = parse_time(meta, "starttimeiso", "starttime", "StartTime")
        stop = parse_time(meta, "stoptimeiso", "stoptime", "StopTime")
        if start and stop and stop <= start:
            raise Invalid("the clip has no duration (StopTime is not after StartTime)")
    if kind == AxisObject.Kind.BOOKMARK:
        parse_time(meta, "starttime", "starttimeepoch", f"bookmark {name}")


def clip_time(obj: AxisObject, which: str) -> datetime | None:
    """A clip's `start` or `stop` time, or None where it has none that can be read."""
    try:
        return parse_time(obj.metadata, f"{which}timeiso", f"{which}time", f"{which} time")
    except DomainError:
        return None


# --- object contents ---------------------------------------------------------------------


def bookmark_text(content: bytes, name: str) -> str:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"bookmark {name} is not UTF-8 text") from exc
    return text


def marker(obj: AxisObject, trigger_on: datetime) -> dict[str, Any]:
    """A bookmark object as an ingest marker: its category, text and tags, at its time."""
    text = bookmark_text(bytes(obj.content or b""), obj.name).strip()
    category = obj.metadata.get("categoryname", "").strip()
    tags = obj.metadata.get("tags", "").strip()
    label = " · ".join(p for p in (category, text, f"tags: {tags}" if tags else "") if p)
    at = parse_time(obj.metadata, "starttime", "starttimeepoch", f"bookmark {obj.name}")
    if at is None:
        at = trigger_on
    return {"at": at.isoformat(), "text": (label or "Bookmark")[:500]}


_POINT_RE = re.compile(r"^\s*POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)\s*$", re.IGNORECASE)


def gnss_track(content: bytes, name: str) -> list[dict[str, Any]]:
    """The points of an Axis GNSS track object, as {"t", "lat", "lon"}."""
    try:
        data = json.loads(content.decode("utf-8"))
        entries = data["CoordinateEntries"]
        points = []
        for entry in entries:
            match = _POINT_RE.match(entry["LocationWKT"])
            if not match:
                raise ValueError(f"not a POINT: {entry['LocationWKT']!r}")
            lon, lat = float(match.group(1)), float(match.group(2))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"coordinates out of range: {lat}, {lon}")
            when = parse_rfc3339(entry["Timestamp"], "GNSS Timestamp")
            points.append({"t": when.isoformat(), "lat": lat, "lon": lon})
    except DomainError as exc:
        raise Invalid(f"GNSS track {name}: {exc.detail}") from exc
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise Invalid(f"GNSS track {name} is not in the Axis format: {exc}") from exc
    return points


def location(value: str) -> dict[str, Any] | None:
    """A TriggerOnLocation's first two numbers as latitude and longitude, when in range."""
    numbers = re.findall(r"-?\d+(?:\.\d+)?", value)
    if len(numbers) < 2:
        return None
    lat, lon = float(numbers[0]), float(numbers[1])
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return {"lat": lat, "lon": lon}
    return None
