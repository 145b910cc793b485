"""The auditor's custody browser: which entries a filter selects, and which of them the
reader may see.

Reading the log needs read-custody; an entry about a recording also needs the `audit`
action on that recording (overt.access.custody_reads: its entries name who watched and
why). Entries the reader may not audit are left out and counted, never shown. Showing
entries about a recording is an `export` read of that recording, logged once per
recording per page in the same transaction as the read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from overt.access.matrix import CUSTODY_ACTIONS, Action
from overt.access.recording_log import record_for_recording
from overt.access.services import allowed
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor, Client
from overt.evidence.models import Derivative, Original, Recording

PAGE = 50
SHA_CHARS = frozenset("0123456789abcdef")


class FilterError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class EntryFilter:
    actor: str = ""
    action: str = ""
    object_sha256: str = ""
    recording: int | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    before: int | None = None  # page: entries with a lower leaf index

    @classmethod
    def from_params(cls, params: Any) -> EntryFilter:
        def text(name: str, limit: int = 200) -> str:
            return str(params.get(name, "") or "").strip()[:limit]

        sha = text("object", 64).lower()
        if sha and (len(sha) != 64 or not set(sha) <= SHA_CHARS):
            raise FilterError("object", "an object is a 64-digit hex SHA-256")
        return cls(
            actor=text("actor"),
            action=text("action", 32),
            object_sha256=sha,
            recording=_number(text("recording", 18), "recording"),
            since=_date(text("since", 10), "since"),
            until=_date(text("until", 10), "until"),
            before=_number(text("before", 18), "before"),
        )

    def query(self) -> QuerySet[CustodyEntry]:
        rows = CustodyEntry.objects.all()
        if self.actor:
            rows = rows.filter(actor=self.actor)
        if self.action:
            rows = rows.filter(action=self.action)
        if self.object_sha256:
            rows = rows.filter(object_sha256=self.object_sha256)
        if self.recording is not None:
            rows = rows.filter(about_recording(self.recording))
        zone = timezone.get_current_timezone()
        if self.since:
            rows = rows.filter(recorded_at__gte=datetime.combine(self.since, time(), zone))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time(), zone)
            rows = rows.filter(recorded_at__lt=end)
        if self.before is not None:
            rows = rows.filter(index__lt=self.before)
        return rows.order_by("-index")


def _number(raw: str, name: str) -> int | None:
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise FilterError(name, f"{name} must be a whole number")
    return int(raw)


def _date(raw: str, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FilterError(name, f"{name} must be a date (YYYY-MM-DD)") from None


def about_recording(recording_id: int) -> Q:
    """Entries about a recording: its originals' and derivatives' objects, and entries
    naming it among their ids or details (canonical JSON is compact: "recording":N)."""
    shas = set(Original.objects.filter(recording_id=recording_id).values_list("sha256", flat=True))
    shas |= set(
        Derivative.objects.filter(original__recording_id=recording_id).values_list(
            "sha256", flat=True
        )
    )
    named = Q(entry__contains=f'"recording":{recording_id},') | Q(
        entry__contains=f'"recording":{recording_id}}}'
    )
    return Q(object_sha256__in=shas) | named if shas else named


def recording_of(entry: CustodyEntry) -> int | None:
    """The recording an entry is about, as the entry itself names it."""
    try:
        body = json.loads(entry.entry)
    except ValueError:
        return None
    for part in ((body.get("object") or {}).get("ids") or {}, body.get("details") or {}):
        found = part.get("recording") if isinstance(part, dict) else None
        if isinstance(found, int):
            return found
    if entry.object_sha256:
        rec = (
            Original.objects.filter(sha256=entry.object_sha256)
            .values_list("recording_id", flat=True)
            .first()
        )
        return int(rec) if rec is not None else None
    return None


@dataclass
class ShownEntry:
    entry: CustodyEntry
    recording: int | None
    body: dict[str, Any]


@dataclass
class BrowsePage:
    entries: list[ShownEntry] = field(default_factory=list)
    withheld: int = 0  # entries on this page about recordings the reader may not audit
    next_before: int | None = None


def may_audit(user: Any, recording_ids: set[int]) -> set[int]:
    """Of these recordings, those the reader may audit (a removed recording's entries stay
    readable with read-custody alone: there is no access class left to apply)."""
    found = {r.pk: r for r in Recording.objects.filter(pk__in=recording_ids)}
    return {
        rid for rid in recording_ids if rid not in found or allowed(user, Action.AUDIT, found[rid])
    }


def browse(user: Any, wanted: EntryFilter, *, client: Client, justification: str) -> BrowsePage:
    """One page of entries the reader may see, newest first; the read is logged."""
    rows = list(wanted.query()[: PAGE + 1])
    page = BrowsePage()
    if len(rows) > PAGE:
        rows = rows[:PAGE]
        page.next_before = rows[-1].index
    about = {row.pk: recording_of(row) for row in rows}
    ok = may_audit(user, {rid for rid in about.values() if rid is not None})
    with transaction.atomic():
        log_read(user, ok & set(about.values()), client=client, justification=justification)
        for row in rows:
            rid = about[row.pk]
            if rid is not None and rid not in ok:
                page.withheld += 1
                continue
            page.entries.append(ShownEntry(row, rid, json.loads(row.entry)))
    return page


def log_read(user: Any, recording_ids: set[int], *, client: Client, justification: str) -> None:
    """An `export` (the matrix's entry for `audit`) per recording whose entries are shown."""
    actor = Actor("user", user.get_username())
    for recording in Recording.objects.filter(pk__in=recording_ids).order_by("pk"):
        record_for_recording(
            CUSTODY_ACTIONS[Action.AUDIT],
            actor,
            recording,
            justification=justification,
            client=client,
            details={"what": "custody entries", "via": "custody browser"},
        )


def choices() -> tuple[list[str], list[str]]:
    """The actors and actions in the log, for the filter's pickers."""
    actors = CustodyEntry.objects.values_list("actor", flat=True).distinct().order_by("actor")
    actions = CustodyEntry.objects.values_list("action", flat=True).distinct().order_by("action")
    return list(actors[:500]), list(actions)
