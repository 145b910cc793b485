"""The deployments contract: the JSON shape outside tools send, and its CSV flattening.

Pure: no Django. `parse_json` and `parse_csv` turn a file's text into `DeploymentIn`
values, or raise `ContractError` listing every bad row and field at once (the importer
then writes nothing). docs/oversight.md documents both forms. Longer than 400 lines
because it is one parser: the field rules, the strict RFC 3339 times and the character
rules are the contract, and are read (and audited) together.

JSON: a list of objects, each exactly::

    {"reference", "type", "borough", "team", "authorised_at", "arrived_at", "ended_at",
     "location": {"lat", "lon"}, "officers": [{"number", "arrived_at", "departed_at"}]}

CSV: one row per officer attending, deployment fields repeated on each row; columns
CSV_COLUMNS. A deployment with no officers is one row with `officer_number` empty.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEPLOYMENT_TYPES = ("armed-deployment", "cad-incident", "stop-and-search", "use-of-force")
DEPLOYMENT_KEYS = frozenset(
    {
        "reference",
        "type",
        "borough",
        "team",
        "authorised_at",
        "arrived_at",
        "ended_at",
        "location",
        "officers",
    }
)
OFFICER_KEYS = frozenset({"number", "arrived_at", "departed_at"})
CSV_COLUMNS = (
    "reference",
    "type",
    "borough",
    "team",
    "authorised_at",
    "arrived_at",
    "ended_at",
    "lat",
    "lon",
    "officer_number",
    "officer_arrived_at",
    "officer_departed_at",
)
DEPLOYMENT_COLUMNS = CSV_COLUMNS[:9]
MAX_ERRORS = 200  # enough to fix a file by; the count says how many there were
MAX_FIELD = 4096  # a CSV cell longer than this is refused (no contract field comes near it)
# RFC 3339 section 5.6 date-time: full-date "T" full-time, where the offset is "Z" or
# +hh:mm. Python's fromisoformat alone also takes ISO 8601 forms that are not RFC 3339
# (week dates, "+0000", "+01", a comma before the fraction), which an outside tool's
# contract check would refuse: they are refused here too.
RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)
# Bidirectional overrides and isolates: a reference that reorders itself on screen.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class RowError:
    row: str  # "deployment 3" (JSON, counted from 1) or "row 7" (CSV line, header is 1)
    field: str  # the field at fault, e.g. "officers[0].arrived_at" or "officer_arrived_at"
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"row": self.row, "field": self.field, "detail": self.message}

    def __str__(self) -> str:
        return f"{self.row}, {self.field}: {self.message}"


class ContractError(ValueError):
    """The file breaks the contract; `errors` names each row and field."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{len(errors)} problem(s), nothing imported: {shown}{more}")


@dataclass(frozen=True)
class OfficerIn:
    number: str
    arrived_at: datetime | None
    departed_at: datetime | None


@dataclass(frozen=True)
class DeploymentIn:
    reference: str
    type: str
    borough: str
    team: str
    authorised_at: datetime | None
    arrived_at: datetime
    ended_at: datetime
    lat: float | None
    lon: float | None
    officers: tuple[OfficerIn, ...]
    row: str = field(default="", compare=False)

    def as_json(self) -> dict[str, Any]:
        """The contract's JSON form (what `parse_json` reads back to an equal value)."""
        loc = None if self.lat is None else {"lat": self.lat, "lon": self.lon}
        return {
            "reference": self.reference,
            "type": self.type,
            "borough": self.borough,
            "team": self.team,
            "authorised_at": iso(self.authorised_at),
            "arrived_at": iso(self.arrived_at),
            "ended_at": iso(self.ended_at),
            "location": loc,
            "officers": [
                {
                    "number": o.number,
                    "arrived_at": iso(o.arrived_at),
                    "departed_at": iso(o.departed_at),
                }
                for o in self.officers
            ],
        }


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Row:
    """Collects the errors of one deployment while its fields are read."""

    def __init__(self, label: str, errors: list[RowError], *, csv: bool = False) -> None:
        self.label, self.errors, self.csv = label, errors, csv

    def fail(self, name: str, message: str) -> None:
        self.errors.append(RowError(self.label, name, message))

    def text(self, name: str, value: object, *, limit: int, required: bool = True) -> str:
        if value is None or value == "":
            if required:
                self.fail(name, "required")
            return ""
        if not isinstance(value, str):
            self.fail(name, "must be a string")
            return ""
        value = value.strip()
        if len(value) > limit:
            self.fail(name, f"longer than {limit} characters")
        elif required and not value:
            self.fail(name, "required")
        elif any(unprintable(c) for c in value):
            self.fail(name, "holds a control character")
        elif any(invisible(c) for c in value):
            self.fail(name, "holds an invisible formatting character (such as U+200B)")
        return value

    def time(self, name: str, value: object, *, required: bool) -> datetime | None:
        if value is None or value == "":
            if required:
                self.fail(name, "required (an RFC 3339 time in UTC)")
            return None
        if not isinstance(value, str):
            self.fail(name, "must be an RFC 3339 time string")
            return None
        parsed = parse_time(value)
        if parsed is None:
            self.fail(name, f"{value[:40]!r} is not an RFC 3339 time with a UTC offset")
        return parsed

    def number(
        self, name: str, value: object, low: float, high: float, *, text: bool = False
    ) -> float | None:
        """A number in [low, high]; a string only where `text` (CSV cells are text; in
        JSON a quoted number is the wrong type)."""
        if isinstance(value, str) and text:
            try:
                value = float(value)
            except ValueError:
                self.fail(name, f"{str(value)[:20]!r} is not a number")
                return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(name, "must be a number")
            return None
        number = float(value)
        if not low <= number <= high:  # also refuses NaN
            self.fail(name, f"must be between {low:g} and {high:g}")
            return None
        return number


def unprintable(c: str) -> bool:
    """Control characters, lone surrogates, line separators and bidi overrides."""
    return c < " " or c in _BIDI or unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")


def invisible(c: str) -> bool:
    """Invisible formatting characters (zero-width space, marks, BOM: category Cf). Refused
    in references and names, where "REF-1" and "REF-\u200b1" would be two deployments that
    look alike; free text such as a complaint's summary may need them (ZWNJ in Persian)."""
    return unicodedata.category(c) == "Cf"


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 date-time with an offset ('Z' or ±hh:mm), in UTC; None if it is not one
    (a local time without an offset is ambiguous: refused)."""
    text = text.strip()
    if RFC3339.fullmatch(text) is None:
        return None
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):  # 2026-02-30; year 1 with a positive offset
        return None


def _deployment(row: _Row, data: dict[str, Any], officers: list[OfficerIn]) -> DeploymentIn:
    kind = row.text("type", data.get("type"), limit=32)
    if kind and kind not in DEPLOYMENT_TYPES:
        row.fail("type", f"{kind!r} is not one of {', '.join(DEPLOYMENT_TYPES)}")
    authorised = row.time("authorised_at", data.get("authorised_at"), required=False)
    arrived = row.time("arrived_at", data.get("arrived_at"), required=True)
    ended = row.time("ended_at", data.get("ended_at"), required=True)
    if arrived and ended and ended < arrived:
        row.fail("ended_at", "is before arrived_at")
    if authorised and arrived and arrived < authorised:
        row.fail("arrived_at", "is before authorised_at")
    lat, lon = data.get("lat"), data.get("lon")
    if (lat is None or lat == "") != (lon is None or lon == ""):
        row.fail("location", "needs both lat and lon, or neither")
        lat = lon = None
    if lat is not None and lat != "":
        lat = row.number("location.lat", lat, -90, 90, text=row.csv)
        lon = row.number("location.lon", lon, -180, 180, text=row.csv)
    else:
        lat = lon = None
    seen: set[str] = set()
    for i, officer in enumerate(officers):
        if officer.number in seen:
            row.fail(f"officers[{i}].number", f"{officer.number} is listed twice")
        seen.add(officer.number)
        start = officer.arrived_at or arrived
        end = officer.departed_at or ended
        if start and end and end < start:
            row.fail(f"officers[{i}].departed_at", "is before the officer's arrival")
    return DeploymentIn(
        reference=row.text("reference", data.get("reference"), limit=64),
        type=kind,
        borough=row.text("borough", data.get("borough"), limit=100),
        team=row.text("team", data.get("team"), limit=100),
        authorised_at=authorised,
        arrived_at=arrived or datetime.min.replace(tzinfo=UTC),
        ended_at=ended or datetime.min.replace(tzinfo=UTC),
        lat=lat,
        lon=lon,
        officers=tuple(officers),
        row=row.label,
    )


def _officer(row: _Row, prefix: str, data: object) -> OfficerIn | None:
    if not isinstance(data, dict):
        row.fail(prefix, "must be an object with number, arrived_at and departed_at")
        return None
    _duplicates(row, prefix + ".", data)
    for key in sorted(set(data) - OFFICER_KEYS):
        row.fail(f"{prefix}.{key}", "unknown field")
    return OfficerIn(
        number=row.text(f"{prefix}.number", data.get("number"), limit=32),
        arrived_at=row.time(f"{prefix}.arrived_at", data.get("arrived_at"), required=False),
        departed_at=row.time(f"{prefix}.departed_at", data.get("departed_at"), required=False),
    )


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once (json.loads
    keeps only the last value, which would drop the others silently)."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    out = _Object(pairs)
    if len(out) != len(pairs):
        keys = [k for k, _ in pairs]
        out.duplicates = tuple(sorted({k for k in keys if keys.count(k) > 1}))
    return out


def _duplicates(row: _Row, prefix: str, data: object) -> None:
    for key in getattr(data, "duplicates", ()):
        row.fail(f"{prefix}{key}", "given more than once in the object")


def _integer(text: str) -> int | float:
    """A JSON integer; one too long for int() (thousands of digits) becomes a float
    (infinite), which the range checks then refuse."""
    return int(text) if len(text) <= 100 else float(text)


def parse_json(text: str) -> list[DeploymentIn]:
    try:
        data = json.loads(text, object_pairs_hook=_object, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise ContractError([RowError("file", "", f"not valid JSON: {exc}")]) from None
    except RecursionError:
        raise ContractError([RowError("file", "", "not valid JSON: nested too deeply")]) from None
    if not isinstance(data, list):
        raise ContractError([RowError("file", "", "must be a JSON list of deployments")])
    errors: list[RowError] = []
    out = []
    for n, item in enumerate(data, start=1):
        row = _Row(f"deployment {n}", errors)
        if not isinstance(item, dict):
            row.fail("", "must be a JSON object")
            continue
        _duplicates(row, "", item)
        for key in sorted(set(item) - DEPLOYMENT_KEYS):
            row.fail(key, "unknown field")
        flat = dict(item)
        location = item.get("location")
        if isinstance(location, dict):
            _duplicates(row, "location.", location)
            for key in sorted(set(location) - {"lat", "lon"}):
                row.fail(f"location.{key}", "unknown field")
            flat["lat"], flat["lon"] = location.get("lat"), location.get("lon")
        elif location is not None:
            row.fail("location", 'must be {"lat": ..., "lon": ...} or null')
        listed = item.get("officers")
        officers: list[OfficerIn] = []
        if not isinstance(listed, list):
            row.fail("officers", "required: a list (empty when no officer is known)")
        else:
            for i, officer in enumerate(listed):
                parsed = _officer(row, f"officers[{i}]", officer)
                if parsed is not None:
                    officers.append(parsed)
        out.append(_deployment(row, flat, officers))
    return _checked(out, errors)


def _records(reader: Any) -> Any:
    """The reader's records, each with its row number; a record the csv module cannot
    read (a cell over its size limit, a stray quote in strict mode) is refused by row."""
    line = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problem = RowError(f"row {line + 1}", "", f"not readable as CSV: {exc}")
            raise ContractError([problem]) from None
        line += 1
        yield line, values


def parse_csv(text: str) -> list[DeploymentIn]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    records = _records(reader)
    first_record = next(records, None)
    if first_record is None:
        raise ContractError([RowError("row 1", "", "the file is empty: a header row is needed")])
    header = [h.strip() for h in first_record[1]]
    missing = [c for c in CSV_COLUMNS if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    twice = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or twice:
        header_errors = [RowError("row 1", c, "missing column") for c in missing]
        header_errors += [RowError("row 1", c, "unknown column") for c in unknown]
        header_errors += [RowError("row 1", c, "column given more than once") for c in twice]
        raise ContractError(header_errors)
    errors: list[RowError] = []
    groups: dict[str, tuple[str, dict[str, str], list[OfficerIn]]] = {}
    for line, values in records:
        if not any(v.strip() for v in values):
            continue  # a blank line is layout, not a row
        label = f"row {line}"
        row = _Row(label, errors, csv=True)
        if any(len(v) > MAX_FIELD for v in values):
            row.fail("", f"has a cell longer than {MAX_FIELD} characters")
            continue
        if len(values) != len(header):
            row.fail("", f"has {len(values)} fields; the header has {len(header)}")
            continue
        cells = dict(zip(header, (v.strip() for v in values), strict=True))
        reference = cells["reference"]
        if reference not in groups:
            groups[reference] = (label, cells, [])
        else:
            first_label, first, _ = groups[reference]
            for column in DEPLOYMENT_COLUMNS:
                if cells[column] != first[column]:
                    row.fail(column, f"differs from {first_label} of the same reference")
        officers = groups[reference][2]
        if cells["officer_number"]:
            officers.append(
                OfficerIn(
                    number=row.text("officer_number", cells["officer_number"], limit=32),
                    arrived_at=row.time(
                        "officer_arrived_at", cells["officer_arrived_at"], required=False
                    ),
                    departed_at=row.time(
                        "officer_departed_at", cells["officer_departed_at"], required=False
                    ),
                )
            )
        elif cells["officer_arrived_at"] or cells["officer_departed_at"]:
            row.fail("officer_number", "required when officer times are given")
    out = [
        _deployment(_Row(label, errors, csv=True), cells, officers)
        for label, cells, officers in groups.values()
    ]
    return _checked(out, errors)


def _checked(out: list[DeploymentIn], errors: list[RowError]) -> list[DeploymentIn]:
    first: dict[str, str] = {}
    for dep in out:
        if dep.reference and dep.reference in first:
            errors.append(
                RowError(dep.row, "reference", f"{dep.reference!r} is also {first[dep.reference]}")
            )
        first.setdefault(dep.reference, dep.row)
    if errors:
        raise ContractError(errors[:MAX_ERRORS] if len(errors) > MAX_ERRORS else errors)
    return out


def parse(text: str, name: str = "") -> list[DeploymentIn]:
    """By the name's extension when it has one, else by the first character."""
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return parse_csv(text)
    if lowered.endswith(".json") or text.lstrip("\ufeff \t\r\n")[:1] == "[":
        return parse_json(text)
    return parse_csv(text)
