"""The facts retention is decided on, loaded from the catalogue, and the effective
retention that overt.retention.rules works out from them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from overt.conf import get_settings
from overt.evidence.models import Recording

from . import clock
from .common import OPEN, NotFound, procedures
from .models import CategoryPolicy, Hold, RetentionPolicy, ReviewDecision, TriggerEvent
from .rules import RECORDED, Facts, HoldFact, Period, Retention, Rule, effective_retention


def default_rule() -> Rule:
    settings = get_settings()
    return Rule(
        "uncategorised default",
        Period(days=settings.retention_uncategorised_days),
        RECORDED,
        settings.retention_uncategorised_action,
    )


def recycle_window() -> timedelta:
    return timedelta(days=get_settings().retention_recycle_days)


def live_recordings() -> Any:
    """Recordings still in the catalogue and not in the recycle bin."""
    return Recording.objects.exclude(disposals__status__in=OPEN)


def load_facts(recordings: Any, as_of: datetime) -> dict[int, Facts]:
    """The rules' facts for every recording in the queryset, in a handful of queries."""
    recorded = dict(recordings.values_list("pk", "trigger_on_at"))
    if not recorded:
        return {}
    small = len(recorded) <= 500
    ids = list(recorded)

    def scoped(qs: Any, field_name: str = "recording_id") -> Any:
        return qs.filter(**{f"{field_name}__in": ids}) if small else qs

    rules = {p.pk: p.rule() for p in RetentionPolicy.objects.all()}
    policy_of = dict(CategoryPolicy.objects.values_list("category_id", "policy_id"))
    categories: dict[int, list[tuple[str, Rule | None]]] = defaultdict(list)
    through = Recording.categories.through.objects
    for rec_id, cat_id, name in scoped(through).values_list(
        "recording_id", "category_id", "category__name"
    ):
        if rec_id in recorded:
            policy_id = policy_of.get(cat_id)
            categories[rec_id].append((name, rules.get(policy_id) if policy_id else None))
    triggers: dict[int, dict[str, datetime]] = defaultdict(dict)
    for rec_id, kind, at in scoped(TriggerEvent.objects.filter(occurred_at__lte=as_of)).values_list(
        "recording_id", "kind", "occurred_at"
    ):
        if rec_id in recorded and (kind not in triggers[rec_id] or at > triggers[rec_id][kind]):
            triggers[rec_id][kind] = at
    holds: dict[int, list[HoldFact]] = defaultdict(list)
    active = Hold.objects.filter(Q(released_at__isnull=True) | Q(released_at__gt=as_of))
    for rec_id, kind, released in scoped(active.filter(recording__isnull=False)).values_list(
        "recording_id", "kind", "released_at"
    ):
        if rec_id in recorded:
            holds[rec_id].append(HoldFact(kind, released))
    held_incidents = procedures(as_of)
    if held_incidents:
        under = recordings.filter(incident_id__in=list(held_incidents))
        for rec_id, incident_id in under.values_list("pk", "incident_id"):
            holds[rec_id].append(HoldFact("post-incident", held_incidents[incident_id]))
    keep: dict[int, datetime] = {}
    for rec_id, until in scoped(ReviewDecision.objects.all()).values_list(
        "recording_id", "keep_until"
    ):
        if rec_id in recorded and (rec_id not in keep or until > keep[rec_id]):
            keep[rec_id] = until
    return {
        rec_id: Facts(
            recorded_at=at,
            categories=tuple(sorted(categories.get(rec_id, ()), key=lambda c: c[0])),
            triggers=triggers.get(rec_id, {}),
            holds=tuple(holds.get(rec_id, ())),
            keep_until=keep.get(rec_id),
        )
        for rec_id, at in recorded.items()
    }


def retention_of(recording_id: int, as_of: datetime | None = None) -> Retention:
    as_of = as_of or clock.now()
    facts = load_facts(Recording.objects.filter(pk=recording_id), as_of)
    if recording_id not in facts:
        raise NotFound(f"no recording {recording_id}")
    return effective_retention(facts[recording_id], as_of=as_of, default=default_rule())


def retentions(recordings: Any, as_of: datetime) -> dict[int, Retention]:
    default = default_rule()
    return {
        rec_id: effective_retention(f, as_of=as_of, default=default)
        for rec_id, f in load_facts(recordings, as_of).items()
    }

