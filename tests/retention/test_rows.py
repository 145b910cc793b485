"""The lists' typed rows, and their JSON: the CLI's --json and /retention/upcoming.json
print row.to_json(), which must keep the shape (keys, their order, UTC times with a
trailing Z) that those outputs had when the lists returned dicts of strings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from retention_support import ACTOR, make_recording

from overt.retention import services
from overt.retention.services import run_retention

pytestmark = [pytest.mark.scaled, pytest.mark.usefixtures("policies")]
DAY = timedelta(days=1)
NOW = datetime(2025, 1, 1, 2, 0, tzinfo=UTC)  # the sim_clock's start


def _made(people, store, days_ago: float, label: str, categories: tuple[str, ...]):  # type: ignore[no-untyped-def]
    officer, device = people
    return make_recording(
        store, officer, device, NOW - days_ago * DAY, label=label, categories=categories
    )


def test_rows_are_typed_and_serialise_to_the_old_json(people, purge_store, sim_clock) -> None:
    binned = _made(people, purge_store, 40, "binned", ("Non-evidential",))
    run_retention(store=purge_store)  # binned goes to the recycle bin
    soon = _made(people, purge_store, 28.5, "soon", ("Non-evidential",))
    review = _made(people, purge_store, 2200, "review", ("Evidential",))
    uncat = _made(people, purge_store, 5, "uncat", ())
    services.set_hold(soon.pk, reason="IOPC referral", actor=ACTOR)
    services.release_hold(soon.pk, reason="closed", actor=ACTOR)

    rows = {(r.recording, r.stage): r for r in services.upcoming(days=30)}
    recycle = rows[(soon.pk, "recycle")]
    assert isinstance(recycle.date, datetime) and isinstance(recycle.recorded_at, datetime)
    assert recycle.to_json() == {
        "recording": soon.pk,
        "stage": "recycle",
        "date": "2025-01-03T14:00:00Z",
        "purge_after": "2025-01-10T14:00:00Z",
        "officer": "MP200",
        "team": "Response Team 2",
        "device": "CAM-R1",
        "recorded_at": "2024-12-03T14:00:00Z",
        "title": "test soon",
        "reason": "delete on 2025-01-03 (Non-evidential: delete 31 days after the recording "
        "time)",
    }
    purge = rows[(binned.pk, "purge")].to_json()
    assert list(purge) == [*recycle.to_json(), "status", "last_error"]
    assert (purge["date"], purge["status"], purge["last_error"]) == (
        "2025-01-08T02:00:00Z",
        "recycled",
        "",
    )

    (due,) = services.review_due()
    assert due.to_json() == {
        "recording": review.pk,
        "title": "test review",
        "officer": "MP200",
        "team": "Response Team 2",
        "recorded_at": "2018-12-24T02:00:00Z",
        "due_at": "2024-12-24T02:00:00Z",
        "decided_by": "Evidential: review 6 years after the recording time",
    }

    (worklist,) = services.uncategorised()
    assert worklist.recordings == (uncat.pk,)
    assert worklist.to_json() == {
        "team": "Response Team 2",
        "officer": "MP200",
        "name": "PC Retain",
        "count": 1,
        "oldest": "2024-12-27T02:00:00Z",
        "first_due": "2025-01-27T02:00:00Z",
        "recordings": [uncat.pk],
    }

    listed = {r.id: r for r in services.recording_rows()}
    assert listed[binned.pk].to_json() == {
        "id": binned.pk,
        "title": "test binned",
        "officer": "MP200",
        "team": "Response Team 2",
        "device": "CAM-R1",
        "trigger_on_at": "2024-11-22T02:00:00Z",
        "categories": ["Non-evidential"],
        "state": "recycled",
        "holds": [],
        "due_at": "2024-12-23T02:00:00Z",
        "at_expiry": "delete",
        "retention": "delete on 2024-12-23 (Non-evidential: delete 31 days after the "
        "recording time)",
        "recoverable_until": "2025-01-08T02:00:00Z",
        "pre_event_seconds": 0.0,
        "capture_signature": "unsigned",
        "capture_problems": [],
    }
    services.set_hold(review.pk, reason="legal order", actor=ACTOR, kind="legal")
    held = {r.id: r for r in services.recording_rows()}[review.pk].to_json()
    assert held["state"] == "held" and held["holds"] == [
        {"id": held["holds"][0]["id"], "kind": "legal", "reason": "legal order"}
    ]

    (evidential,) = [p for p in services.policies() if p.name == "Evidential"]
    assert evidential.to_json() == {
        "name": "Evidential",
        "period": "6y",
        "starts_from": "recorded",
        "at_expiry": "review",
        "rule": "review 6 years after the recording time",
        "description": evidential.description,
        "categories": ["Evidential"],
    }
    report = run_retention(store=purge_store).to_json()
    assert report["review_due"] == []  # held now
    json.dumps(report)  # plain JSON all through
