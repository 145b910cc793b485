"""Compliance rates and small-count suppression, as pure functions (no Django).

A rate is a share of attendances; `compliance_rate` is the share recorded from the outset
to the end without gaps (status `recorded`), `footage_rate` the share with any footage.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .rules import STATUSES

SUPPRESSED = None  # what a suppressed count reads as in JSON (null) and "<N" in text


@dataclass(frozen=True)
class Judged:
    """One attendance's verdict with what it is grouped by."""

    deployment: str
    officer: str
    status: str
    activation_delay_s: float | None
    early_stop_s: float | None
    recordings: tuple[int, ...]
    borough: str
    team: str
    month: str  # YYYY-MM, in the instance's time zone
    muted_audio: bool = False

    def row(self) -> dict[str, Any]:
        """The contract's row: exactly these six keys."""
        return {
            "deployment": self.deployment,
            "officer": self.officer,
            "status": self.status,
            "activation_delay_s": self.activation_delay_s,
            "early_stop_s": self.early_stop_s,
            "recordings": list(self.recordings),
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarise(rows: Iterable[Judged]) -> dict[str, Any]:
    rows = list(rows)
    counts = {s: 0 for s in STATUSES}
    for r in rows:
        counts[r.status] += 1
    total = len(rows)
    late = [r.activation_delay_s for r in rows if r.status == "late" and r.activation_delay_s]
    return {
        "attendances": total,
        **{s.replace("-", "_"): counts[s] for s in STATUSES},
        "muted_audio": sum(1 for r in rows if r.muted_audio),
        "compliance_rate": _share(counts["recorded"], total),
        "footage_rate": _share(total - counts["no-footage"], total),
        "median_late_delay_s": round(statistics.median(late), 1) if late else None,
    }


GROUPINGS: dict[str, Callable[[Judged], str]] = {
    "borough": lambda r: r.borough,
    "team": lambda r: r.team,
    "month": lambda r: r.month,
}


def rates(rows: Iterable[Judged], by: str) -> list[dict[str, Any]]:
    """One summary per value of `by` (borough, team or month), sorted by that value."""
    key = GROUPINGS[by]
    groups: dict[str, list[Judged]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    return [{by: name, **summarise(groups[name])} for name in sorted(groups)]


def all_rates(rows: Iterable[Judged]) -> dict[str, list[dict[str, Any]]]:
    rows = list(rows)
    return {by: rates(rows, by) for by in GROUPINGS}


def suppress(counts: dict[str, Any], threshold: int, fields: Iterable[str]) -> dict[str, Any]:
    """Counts in `fields` above 0 and below `threshold` become None (published as "<N");
    a rate computed from a suppressed count is suppressed with it, so it cannot be
    multiplied back out."""
    out = dict(counts)
    fields = list(fields)
    small = [n for n in fields if isinstance(out.get(n), int) and 0 < out[n] < threshold]
    parts = [n for n in fields if n != "attendances" and n != "complaints"]
    if len([n for n in small if n in parts]) == 1:
        # One hidden part of a published total could be had by subtraction: hide the
        # next smallest part as well (complementary suppression).
        rest = sorted(
            (out[n], n)
            for n in parts
            if n not in small and isinstance(out.get(n), int) and out[n] > 0
        )
        small += [rest[0][1]] if rest else []
    for name in small:
        out[name] = SUPPRESSED
    hidden = bool(small)
    if hidden or (isinstance(out.get("attendances"), int) and out["attendances"] < threshold):
        for name in list(out):
            if name.endswith("_rate") or name.startswith("median_"):
                out[name] = SUPPRESSED
    return out


def _protect(cells: list[tuple[dict[str, Any], set[str], str]]) -> bool:
    """`cells` are the terms of one published sum (row, its hidden names, the name): if
    exactly one is hidden it could be had by subtraction, so hide the smallest positive
    count among the others (a rule with an unpublished or zero term needs no partner).
    True if something was hidden."""
    if sum(1 for _, gone, name in cells if name in gone) != 1:
        return False
    shown = [
        (row[name], n)
        for n, (row, gone, name) in enumerate(cells)
        if name not in gone and isinstance(row.get(name), int) and row[name] > 0
    ]
    if not shown:
        return False
    _, picked = min(shown)
    cells[picked][1].add(cells[picked][2])
    return True


def suppress_table(
    rows: list[dict[str, Any]],
    total: dict[str, Any],
    threshold: int,
    *,
    whole: str,
    parts: Iterable[str],
    others: Iterable[str] = (),
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Suppress a table of rows (boroughs) whose columns add up to a `total` row (the
    force), and whose `parts` add up to each row's `whole` (the statuses to the
    attendances); `others` are counts that add up down the columns only (muted audio).

    A count from 1 to threshold - 1 is hidden. Then, until nothing changes, a hidden
    count that could be had by subtraction is protected by hiding the next smallest
    count in the same sum: along a row (whole = parts) and down a column (force =
    boroughs), so no published sum has exactly one hidden term. Rates and medians of a
    row with anything hidden, or with a whole under the threshold, are hidden too."""
    parts, others = list(parts), list(others)
    columns = [whole, *parts, *others]
    table = [*rows, total]
    hidden: list[set[str]] = [
        {n for n in columns if isinstance(r.get(n), int) and 0 < r[n] < threshold} for r in table
    ]
    changed = True
    while changed:
        changed = False
        for row, gone in zip(table, hidden, strict=True):
            changed |= _protect([(row, gone, n) for n in (whole, *parts)])
        pairs = list(zip(table, hidden, strict=True))
        for name in columns:
            changed |= _protect([(row, gone, name) for row, gone in pairs])
    out = []
    for row, gone in zip(table, hidden, strict=True):
        shown = {k: (SUPPRESSED if k in gone else v) for k, v in row.items()}
        if gone or (isinstance(row.get(whole), int) and row[whole] < threshold):
            for name in shown:
                if name.endswith("_rate") or name.startswith("median_"):
                    shown[name] = SUPPRESSED
        out.append(shown)
    return out[:-1], out[-1]
