"""The daily run: purge what has served its recycle window, then recycle what has fallen
due, and list what is due for review. overt.retention.jobs runs it once a day under the
job worker; `overt retention run` runs it by hand or from cron."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from overt.custody.services import Actor
from overt.evidence.store import EvidenceStore, get_store

from . import clock
from .common import JOB_ACTOR, OPEN, Refused, RetentionError, iso
from .disposal import recycle
from .facts import live_recordings, recycle_window, retentions
from .models import Disposal
from .purge import Observer, Outcome, purge, would_purge
from .queries import ReviewRow, review_rows
from .rules import DELETE


@dataclass
class RunReport:
    as_of: datetime
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    review_due: list[ReviewRow] = field(default_factory=list)
    held: int = 0
    live: int = 0

    def count(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    def to_json(self) -> dict[str, Any]:
        actions = sorted({o.action for o in self.outcomes})
        return {
            "as_of": iso(self.as_of),
            "dry_run": self.dry_run,
            "summary": {
                **{a: self.count(a) for a in actions},
                "review_due": len(self.review_due),
                "held": self.held,
                "live": self.live,
            },
            "actions": [o.to_json() for o in self.outcomes],
            "review_due": [r.to_json() for r in self.review_due],
        }


def run_retention(
    as_of: datetime | None = None,
    *,
    dry_run: bool = False,
    actor: Actor = JOB_ACTOR,
    store: EvidenceStore | None = None,
    observer: Observer | None = None,
) -> RunReport:
    """One pass of the daily job: purge what has served its recycle window, then recycle
    what has fallen due. With dry_run, say what would happen and change nothing."""
    now = clock.now()
    as_of = as_of or now
    if not dry_run and as_of > now:
        raise Refused(
            f"refusing to delete evidence as of {as_of.isoformat()}, which is in the future; "
            "use --dry-run for a what-if run"
        )
    store = store or get_store()
    report = RunReport(as_of, dry_run)

    due_disposals = list(
        Disposal.objects.filter(status__in=OPEN, purge_after__lte=as_of)
        .order_by("purge_after", "pk")
        .values_list("pk", "recording_ref")
    )
    if observer is not None:
        observer("purge-candidates", {"disposals": [pk for pk, _ in due_disposals]})
    for pk, recording_ref in due_disposals:
        if dry_run:
            report.outcomes.append(would_purge(pk, recording_ref, as_of, store))
            continue
        try:
            report.outcomes.append(
                purge(pk, as_of=as_of, actor=actor, store=store, observer=observer)
            )
        except RetentionError as exc:
            report.outcomes.append(Outcome(recording_ref, "failed", str(exc)))

    found = retentions(live_recordings(), as_of)
    report.live = len(found)
    report.held = sum(1 for r in found.values() if r.held)
    candidates = sorted(
        rec_id for rec_id, r in found.items() if r.due(as_of) and r.at_expiry == DELETE
    )
    report.review_due = review_rows(found, as_of)
    if observer is not None:
        observer("recycle-candidates", {"recordings": candidates})
    window = recycle_window()
    for rec_id in candidates:
        r = found[rec_id]
        if dry_run:
            report.outcomes.append(
                Outcome(
                    rec_id,
                    "would-recycle",
                    r.explain(),
                    {"due_at": iso(r.due_at), "purge_after": iso(now + window)},
                )
            )
            continue
        disposal = recycle(rec_id, as_of=as_of, actor=actor)
        if disposal is None:
            report.outcomes.append(Outcome(rec_id, "skipped", "not due under the lock"))
        else:
            report.outcomes.append(
                Outcome(
                    rec_id,
                    "recycled",
                    r.explain(),
                    {"due_at": iso(r.due_at), "recoverable_until": iso(disposal.purge_after)},
                )
            )
    return report
