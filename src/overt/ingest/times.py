"""The one rule for times a camera, a dock or a client tells overt (clip start and stop,
trigger times, markers): an RFC 3339 time with a time zone, between MIN_CAPTURE_TIME and
now + MAX_CLOCK_AHEAD. Every door (tus Upload-Metadata, Swift metadata headers, sidecars,
API markers) checks a time here before it accepts a byte, so no impossible time can reach
the catalogue and fail later (year 9999 plus a clip's length overflows a datetime).

Pure functions, no Django: the ingest engineer and the uploads engineer both use them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from overt import errors

# No body-worn camera recorded evidence before 2000; anything earlier is a reset clock.
MIN_CAPTURE_TIME = datetime(2000, 1, 1, tzinfo=UTC)
# A camera clock may run a little ahead; more than a day ahead is a wrong clock.
MAX_CLOCK_AHEAD = timedelta(days=1)

_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d\d-\d\d)[Tt ](?P<time>\d\d:\d\d:\d\d)(?:\.(?P<frac>\d{1,9}))?"
    r"(?P<zone>[Zz]|[+-]\d\d:\d\d)"
)


class CaptureTimeError(errors.Invalid, ValueError):
    """A time is unreadable or outside the range overt accepts; the message says which."""


class NotRFC3339(CaptureTimeError):
    """The text is not written as an RFC 3339 time with a time zone at all."""


def max_capture_time(now: datetime | None = None) -> datetime:
    """The latest time accepted at `now` (default: the current time)."""
    return (now or datetime.now(UTC)) + MAX_CLOCK_AHEAD


def parse_capture_time(value: str, what: str = "time", now: datetime | None = None) -> datetime:
    """Parse an RFC 3339 time with a time zone and check its range; returns it in UTC."""
    text = value.strip() if isinstance(value, str) else ""
    match = _RFC3339.fullmatch(text)
    if not match:
        raise NotRFC3339(f"{what} is not an RFC 3339 time with a time zone: {value!r}")
    zone = match["zone"].upper()
    if zone != "Z" and (int(zone[1:3]) > 23 or int(zone[4:6]) > 59):
        raise CaptureTimeError(f"{what} has an impossible time zone offset: {value!r}")
    # Python reads at most 6 fractional digits; a camera may send nanoseconds.
    frac = f".{match['frac'][:6]:0<6}" if match["frac"] else ""
    iso = f"{match['date']}T{match['time']}{frac}{'+00:00' if zone == 'Z' else zone}"
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError as exc:
        raise CaptureTimeError(f"{what} is not a real time: {value!r}") from exc
    return check_capture_time(parsed, what, now)


def check_capture_time(
    value: datetime, what: str = "time", now: datetime | None = None
) -> datetime:
    """Check an already parsed, zone-aware time (e.g. from a sidecar); returns it in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CaptureTimeError(f"{what} has no time zone: {value.isoformat()}")
    try:
        in_utc = value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:  # e.g. 9999-12-31T23:59-23:59
        raise CaptureTimeError(f"{what} is outside the range a date can hold") from exc
    latest = max_capture_time(now)
    if not MIN_CAPTURE_TIME <= in_utc <= latest:
        raise CaptureTimeError(
            f"{what} {in_utc.isoformat()} is outside the accepted range "
            f"{MIN_CAPTURE_TIME.isoformat()} .. now + {MAX_CLOCK_AHEAD.days} day "
            f"({latest.replace(microsecond=0).isoformat()})"
        )
    return in_utc


# A date and time in a file name, as cameras and phones write them: 20261120_140000,
# 2026-11-20T14-00-00, VID_20261120_140000, 20261120T140000Z. Not inside a longer number.
_NAME_TIME = re.compile(
    r"(?<!\d)(?P<y>\d{4})[-_.]?(?P<mo>\d\d)[-_.]?(?P<d>\d\d)[Tt_ .-]?"
    r"(?P<h>\d\d)[-_.:h]?(?P<mi>\d\d)[-_.:m]?(?P<s>\d\d)(?!\d)(?P<z>[Zz])?"
)


def time_from_filename(name: str, zone: tzinfo, now: datetime | None = None) -> datetime | None:
    """The capture time a file name carries, in UTC, or None. A name's time is the
    camera's local time (`zone`) unless it ends in Z; an impossible or out-of-range time
    is no time. For a clip whose container cannot be read (a camera that lost power)."""
    for match in _NAME_TIME.finditer(name):
        try:
            y, mo, d, h, mi, s = (int(match[k]) for k in ("y", "mo", "d", "h", "mi", "s"))
            naive = datetime(y, mo, d, h, mi, s)
        except ValueError:
            continue
        aware = naive.replace(tzinfo=UTC if match["z"] else zone)
        try:
            return check_capture_time(aware, "the file name's time", now)
        except CaptureTimeError:
            continue
    return None
