"""Lists for people: what falls due soon, what waits for review, the uncategorised
worklist, and every recording with its retention.

Each list is of typed rows (frozen dataclasses with datetime fields). The web page uses
them as they are; the JSON of the CLI and of /retention/upcoming.json comes from each
row's to_json(), with times written as overt writes them everywhere (UTC, trailing Z).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from overt.evidence.models import Recording

from . import clock
from .common import OPEN, iso
from .facts import live_recordings, recycle_window, retentions
from .models import Disposal, Hold
from .rules import REVIEW, Retention


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return _row_json(value)
    return value


def _row_json(row: Any) -> dict[str, Any]:
    """The row's fields in declaration order, times as ISO 8601 strings."""
    return {f.name: _json(getattr(row, f.name)) for f in fields(row)}


@dataclass(frozen=True)
class ReviewRow:
    """Footage whose retention has ended under a 'review' policy."""

    recording: int
    title: str
    officer: str
    team: str
    recorded_at: datetime
    due_at: datetime | None
    decided_by: str

    def to_json(self) -> dict[str, Any]:
        return _row_json(self)


@dataclass(frozen=True)
class UpcomingRow:
    """One step due soon: a recording to recycle or review, or a recycled one to purge."""

    recording: int
    stage: str  # recycle, review or purge
    date: datetime
    purge_after: datetime | None
    officer: str
    team: str
    device: str
    recorded_at: datetime | None
    title: str
    reason: str
    status: str = ""  # purge rows only: the disposal's status
    last_error: str = ""  # purge rows only

    def to_json(self) -> dict[str, Any]:
        out = _row_json(self)
        if self.stage != "purge":
            del out["status"], out["last_error"]
        return out


@dataclass(frozen=True)
class UncategorisedRow:
    """One officer's uncategorised recordings."""

    team: str
    officer: str
    name: str
    count: int
    oldest: datetime
    first_due: datetime | None
    recordings: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return _row_json(self)


@dataclass(frozen=True)
class HoldSummary:
    id: int
    kind: str
    reason: str


@dataclass(frozen=True)
class RecordingRow:
    """A recording with its categories, holds, state and retention."""

    id: int
    title: str
    officer: str
    team: str
    device: str
    trigger_on_at: datetime
    categories: tuple[str, ...]
    state: str  # live, held, recycled or purging
    holds: tuple[HoldSummary, ...]
    due_at: datetime | None
    at_expiry: str  # delete, review or keep
    retention: str
    recoverable_until: datetime | None
    # What the camera signed at the lens (issue 13), and the real pre-event length.
    pre_event_seconds: float = 0.0
    capture_signature: str = "unsigned"
    capture_problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return _row_json(self)


def review_rows(found: dict[int, Retention], as_of: datetime) -> list[ReviewRow]:
    due = {k: r for k, r in found.items() if r.due(as_of) and r.at_expiry == REVIEW}
    recs = Recording.objects.filter(pk__in=list(due)).select_related("officer").order_by("pk")
    return [
        ReviewRow(
            recording=rec.pk,
            title=rec.title,
            officer=rec.officer.number,
            team=rec.officer.team,
            recorded_at=rec.trigger_on_at,
            due_at=due[rec.pk].due_at,
            decided_by=due[rec.pk].decided_by,
        )
        for rec in recs
    ]


def review_due(as_of: datetime | None = None) -> list[ReviewRow]:
    """Footage whose retention has ended under a 'review' policy: a person decides."""
    as_of = as_of or clock.now()
    return review_rows(retentions(live_recordings(), as_of), as_of)


def upcoming(as_of: datetime | None = None, days: int = 30) -> list[UpcomingRow]:
    """Deletions due within `days`: recordings that will be recycled, and recycled ones
    that will be purged. Sorted by date."""
    as_of = as_of or clock.now()
    until = as_of + timedelta(days=days)
    window = recycle_window()
    rows: list[UpcomingRow] = []
    found = retentions(live_recordings(), as_of)
    due = {
        rec_id: r
        for rec_id, r in found.items()
        if not r.held and r.due_at is not None and r.due_at <= until
    }
    recs = Recording.objects.filter(pk__in=list(due)).select_related("officer", "device")
    for rec in recs:
        r = due[rec.pk]
        assert r.due_at is not None  # only recordings with a due date are in `due`
        when = max(r.due_at, as_of)
        review = r.at_expiry == REVIEW
        rows.append(
            UpcomingRow(
                recording=rec.pk,
                stage="review" if review else "recycle",
                date=when,
                purge_after=None if review else when + window,
                officer=rec.officer.number,
                team=rec.officer.team,
                device=rec.device.serial,
                recorded_at=rec.trigger_on_at,
                title=rec.title,
                reason=r.explain(),
            )
        )
    for d in Disposal.objects.filter(status__in=OPEN, purge_after__lte=until).select_related(
        "recording__officer", "recording__device"
    ):
        binned = d.recording
        rows.append(
            UpcomingRow(
                recording=d.recording_ref,
                stage="purge",
                date=max(d.purge_after, d.lock_until or d.purge_after),
                purge_after=d.purge_after,
                officer=binned.officer.number if binned else "",
                team=binned.officer.team if binned else "",
                device=binned.device.serial if binned else "",
                recorded_at=binned.trigger_on_at if binned else None,
                title=binned.title if binned else "",
                reason=d.decided_by,
                status=d.status,
                last_error=d.last_error,
            )
        )
    rows.sort(key=lambda r: (r.date, r.recording))
    return rows


def uncategorised(as_of: datetime | None = None) -> list[UncategorisedRow]:
    """The uncategorised worklist, per officer (with their team)."""
    as_of = as_of or clock.now()
    found = retentions(live_recordings().filter(categories__isnull=True), as_of)
    per: dict[tuple[str, str, str], list[tuple[int, Retention, datetime]]] = defaultdict(list)
    recs = Recording.objects.filter(pk__in=list(found)).select_related("officer")
    for rec in recs:
        key = (rec.officer.team, rec.officer.number, rec.officer.name)
        per[key].append((rec.pk, found[rec.pk], rec.trigger_on_at))
    out = []
    for (team, number, name), items in sorted(per.items()):
        dues = [r.due_at for _, r, _ in items if r.due_at is not None]
        out.append(
            UncategorisedRow(
                team=team,
                officer=number,
                name=name,
                count=len(items),
                oldest=min(at for _, _, at in items),
                first_due=min(dues) if dues else None,
                recordings=tuple(sorted(pk for pk, _, _ in items)),
            )
        )
    return out


def recording_rows(
    *,
    as_of: datetime | None = None,
    officer: str | None = None,
    team: str | None = None,
    only_uncategorised: bool = False,
    state: str = "all",
) -> list[RecordingRow]:
    """Recordings with their retention, for `overt recording list`."""
    as_of = as_of or clock.now()
    qs = Recording.objects.select_related("officer", "device").order_by("pk")
    if officer:
        qs = qs.filter(officer__number=officer)
    if team:
        qs = qs.filter(officer__team=team)
    if only_uncategorised:
        qs = qs.filter(categories__isnull=True)
    found = retentions(qs, as_of)
    disposals = {
        d.recording_id: d for d in Disposal.objects.filter(status__in=OPEN, recording__in=qs)
    }
    holds: dict[int | None, list[HoldSummary]] = defaultdict(list)
    for h in Hold.objects.filter(recording__in=qs, released_at__isnull=True):
        holds[h.recording_id].append(HoldSummary(h.pk, h.kind, h.reason))
    cats: dict[int, list[str]] = defaultdict(list)
    for rec_id, name in Recording.categories.through.objects.filter(recording__in=qs).values_list(
        "recording_id", "category__name"
    ):
        cats[rec_id].append(name)
    rows = []
    for rec in qs:
        r = found[rec.pk]
        d = disposals.get(rec.pk)
        current = d.status if d else ("held" if r.held else "live")
        if state not in ("all", current):
            continue
        rows.append(
            RecordingRow(
                id=rec.pk,
                title=rec.title,
                officer=rec.officer.number,
                team=rec.officer.team,
                device=rec.device.serial,
                trigger_on_at=rec.trigger_on_at,
                categories=tuple(sorted(cats.get(rec.pk, []))),
                state=current,
                holds=tuple(holds.get(rec.pk, [])),
                due_at=r.due_at,
                at_expiry=r.at_expiry,
                retention=r.explain(),
                recoverable_until=d.purge_after if d else None,
                pre_event_seconds=rec.pre_event_seconds,
                capture_signature=rec.capture_signature,
                capture_problems=tuple(rec.capture_problems),
            )
        )
    return rows
