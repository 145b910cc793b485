"""The retention rules as pure functions: no database, no clock, no store.

A recording's *effective retention* is decided here from plain facts (when it was
recorded, its categories and their policies, trigger events, holds, review decisions),
so the rules can be tested exhaustively (tests/retention/test_rules.py) and the daily job,
the upcoming-deletions page and `overt retention run --dry-run` all agree.

The rules:

- Each category's policy keeps footage for a period counted from the recording time or
  from a trigger event (case closed, conviction, ...). A trigger that has not happened yet
  means the period has not started: the footage is kept.
- The longest of the recording's categories wins. A category with no policy keeps its
  footage indefinitely (a missing policy never shortens retention).
- Uncategorised footage gets the configured default rule.
- A review decision to keep until a date is one more rule in the "longest wins".
- On a tie, "review" beats "delete".
- Any hold (legal, case, complaint, post-incident) that is not released suspends it all.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from overt import errors

RECORDED = "recorded"
DELETE = "delete"
REVIEW = "review"
KEEP = "keep"  # no end date (waiting for a trigger, or a category without a policy)

# Events that can start a retention clock (Genetec Clearance's "case closed", CPIA's
# conviction, MoPI's review date). docs/retention.md explains each.
TRIGGER_KINDS: dict[str, str] = {
    "case-closed": "the case was closed",
    "complaint-closed": "the complaint was closed",
    "conviction": "a conviction",
    "no-further-action": "a decision to take no further action",
    "review-date": "a set review date",
}
STARTS_FROM = (RECORDED, *TRIGGER_KINDS)
AT_EXPIRY = (DELETE, REVIEW)
HOLD_KINDS: dict[str, str] = {
    "legal": "legal hold",
    "case": "open case",
    "complaint": "open complaint",
    "post-incident": "post-incident procedure",
}

_PERIOD_RE = re.compile(r"^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)w)?(?:(\d+)d)?$")
MAX_YEARS = 200


class RuleError(errors.Invalid, ValueError):
    """A rule or period is malformed; the message says how."""


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar period: years and months are calendar months (31 January plus one
    month is 28 or 29 February), days are 24-hour days."""

    years: int = 0
    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if min(self.years, self.months, self.days) < 0:
            raise RuleError("a retention period cannot be negative")
        if self.years + self.months + self.days == 0:
            raise RuleError("a retention period must be at least one day")
        if self.years + self.months // 12 + self.days // 366 > MAX_YEARS:
            raise RuleError(f"a retention period must be at most {MAX_YEARS} years")

    @classmethod
    def parse(cls, text: str) -> Period:
        """'31d', '6y', '6m', '2w', '1y6m', ... (years, months, weeks, days)."""
        match = _PERIOD_RE.match(text.strip().lower().replace(" ", ""))
        if not text.strip() or match is None:
            raise RuleError(
                f"not a retention period: {text!r} (use e.g. 31d, 6m, 6y or 1y6m: "
                "y years, m months, w weeks, d days)"
            )
        years, months, weeks, days = (int(g or 0) for g in match.groups())
        return cls(years, months, weeks * 7 + days)

    def after(self, start: datetime) -> datetime:
        """`start` plus this period (calendar arithmetic for years and months)."""
        total = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + total // 12, total % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day) + timedelta(days=self.days)

    def __str__(self) -> str:
        parts = [f"{n}{unit}" for n, unit in zip(self.astuple(), "ymd", strict=True) if n]
        return "".join(parts)

    def astuple(self) -> tuple[int, int, int]:
        return (self.years, self.months, self.days)

    def describe(self) -> str:
        words = []
        for n, unit in zip(self.astuple(), ("year", "month", "day"), strict=True):
            if n:
                words.append(f"{n} {unit}{'' if n == 1 else 's'}")
        return " ".join(words)


@dataclass(frozen=True, slots=True)
class Rule:
    """A retention policy as the rules see it."""

    name: str
    period: Period
    starts_from: str = RECORDED
    at_expiry: str = DELETE

    def __post_init__(self) -> None:
        if self.starts_from not in STARTS_FROM:
            raise RuleError(
                f"unknown starting point {self.starts_from!r} (one of {', '.join(STARTS_FROM)})"
            )
        if self.at_expiry not in AT_EXPIRY:
            raise RuleError(f"at expiry must be 'delete' or 'review', not {self.at_expiry!r}")

    def describe(self) -> str:
        start = (
            "the recording time"
            if self.starts_from == RECORDED
            else TRIGGER_KINDS[self.starts_from]
        )
        verb = "delete" if self.at_expiry == DELETE else "review"
        return f"{verb} {self.period.describe()} after {start}"

    def expiry(
        self, recorded_at: datetime, triggers: Mapping[str, datetime], as_of: datetime
    ) -> datetime | None:
        """When this rule's period ends, or None while its trigger has not happened."""
        start: datetime | None
        if self.starts_from == RECORDED:
            start = recorded_at
        else:
            start = triggers.get(self.starts_from)
            if start is None or start > as_of:
                return None
        try:
            return self.period.after(start)
        except (OverflowError, ValueError):  # beyond year 9999: never, in practice
            return None


@dataclass(frozen=True, slots=True)
class HoldFact:
    kind: str
    released_at: datetime | None = None

    def active(self, as_of: datetime) -> bool:
        # Set in the past or not, an unreleased hold counts: a what-if run as of an
        # earlier date must never see evidence as unheld that is held now.
        return self.released_at is None or self.released_at > as_of


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules need to know about one recording."""

    recorded_at: datetime
    categories: tuple[tuple[str, Rule | None], ...] = ()
    triggers: Mapping[str, datetime] = field(default_factory=dict)
    holds: tuple[HoldFact, ...] = ()
    keep_until: datetime | None = None  # a review's decision to keep


@dataclass(frozen=True, slots=True)
class Retention:
    """A recording's effective retention as of a date."""

    due_at: datetime | None  # None: no end date yet
    at_expiry: str  # delete, review, or keep (no end date)
    decided_by: str  # which rule decides it, e.g. "Evidential: review 6 years after ..."
    policy: str  # that rule's policy name ("" for none)
    held_by: tuple[str, ...] = ()  # kinds of active holds
    waiting_for: tuple[str, ...] = ()  # trigger kinds not yet happened
    uncategorised: bool = False

    @property
    def held(self) -> bool:
        return bool(self.held_by)

    def due(self, as_of: datetime) -> bool:
        """True when the footage should leave the catalogue now (or go for review)."""
        return not self.held and self.due_at is not None and self.due_at <= as_of

    def action(self, as_of: datetime) -> str:
        """'hold', 'delete', 'review' or 'keep' as of the date."""
        if self.held:
            return "hold"
        if self.due(as_of):
            return self.at_expiry
        return KEEP

    def explain(self) -> str:
        if self.held:
            return "held: " + ", ".join(HOLD_KINDS.get(k, k) for k in self.held_by)
        if self.due_at is None:
            if self.waiting_for:
                return "kept until " + " / ".join(TRIGGER_KINDS[k] for k in self.waiting_for)
            return f"kept indefinitely ({self.decided_by})"
        return f"{self.at_expiry} on {self.due_at.date().isoformat()} ({self.decided_by})"


UNCATEGORISED = "uncategorised default"


def effective_retention(facts: Facts, *, as_of: datetime, default: Rule) -> Retention:
    """The longest of the recording's rules, suspended by any active hold."""
    candidates: list[tuple[datetime | None, str, str, str]] = []  # expiry, label, action, name
    waiting: list[str] = []
    if not facts.categories:
        expiry = default.expiry(facts.recorded_at, facts.triggers, as_of)
        label = f"{UNCATEGORISED}: {default.describe()}"
        candidates.append((expiry, label, default.at_expiry, default.name))
        if expiry is None and default.starts_from != RECORDED:
            waiting.append(default.starts_from)
    for category, rule in facts.categories:
        if rule is None:
            candidates.append((None, f"{category}: no retention policy", KEEP, ""))
            continue
        expiry = rule.expiry(facts.recorded_at, facts.triggers, as_of)
        if expiry is None and rule.starts_from != RECORDED:
            waiting.append(rule.starts_from)
        candidates.append((expiry, f"{category}: {rule.describe()}", rule.at_expiry, rule.name))
    if facts.keep_until is not None:
        candidates.append((facts.keep_until, "review decision to keep", REVIEW, ""))

    held = tuple(sorted({h.kind for h in facts.holds if h.active(as_of)}))
    open_ended = [c for c in candidates if c[0] is None]
    if open_ended:
        _, label, _, name = open_ended[0]
        return Retention(
            None, KEEP, label, name, held, tuple(sorted(set(waiting))), not facts.categories
        )
    # Longest wins; on the same date, review beats delete (the safer outcome).
    expiry, label, action, name = max(candidates, key=lambda c: (c[0], c[2] == REVIEW))
    return Retention(expiry, action, label, name, held, (), not facts.categories)
