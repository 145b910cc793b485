"""Retention for the demo instance: categories under policies, and a few recordings that
fall due within days of *now*, so the upcoming-deletions page has something to show
whenever the demo is made."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from overt.custody.services import Actor
from overt.evidence.models import Recording

from . import clock, services
from .models import RetentionPolicy
from .rules import Period

ACTOR = Actor.system("demo")
NFA_POLICY = "No further action"
NFA_CATEGORY = "Stop and search: no further action"


@transaction.atomic
def seed_retention() -> None:
    ensure_default_policies()
    if not RetentionPolicy.objects.filter(name=NFA_POLICY).exists():
        services.set_policy(
            NFA_POLICY,
            period=Period(days=31),
            starts_from="no-further-action",
            at_expiry="delete",
            description="Footage of an encounter that ended with no further action.",
            actor=ACTOR,
        )
    for category, policy in [
        ("Evidential", "Evidential"),
        ("Non-evidential", "Non-evidential"),
        (NFA_CATEGORY, NFA_POLICY),
    ]:
        services.assign_policy(category, policy, actor=ACTOR)
    now = clock.now()
    for rec in Recording.objects.filter(incident__reference="CAD 4410/20NOV"):
        services.categorize(rec.pk, "Evidential", actor=ACTOR, reason="armed deployment")
    searches = list(
        Recording.objects.filter(incident__reference="CAD 2957/20NOV").order_by("trigger_on_at")
    )
    # Three fall due in 2, 5 and 20 days; the rest are plain non-evidential footage.
    for rec, days_left in zip(searches, (2, 5, 20), strict=False):
        services.categorize(rec.pk, NFA_CATEGORY, actor=ACTOR, reason="no further action")
        services.add_trigger(
            rec.pk,
            "no-further-action",
            occurred_at=now - timedelta(days=31 - days_left),
            reason="demo: NFA recorded by the custody sergeant",
            actor=ACTOR,
        )
    for rec in searches[3:]:
        services.categorize(rec.pk, "Non-evidential", actor=ACTOR, reason="nothing of note")
    # The domestic incident's footage stays uncategorised: it shows on the worklist.


def ensure_default_policies() -> None:
    """The two default policies (also made by migration retention 0002)."""
    defaults = [
        (
            "Non-evidential",
            0,
            31,
            "delete",
            "Footage of no evidential value: deleted after 31 days (Met policy).",
        ),
        (
            "Evidential",
            6,
            0,
            "review",
            "Evidential footage: reviewed after 6 years at the least (MoPI).",
        ),
    ]
    for name, years, days, at_expiry, description in defaults:
        RetentionPolicy.objects.get_or_create(
            name=name,
            defaults={
                "years": years,
                "days": days,
                "starts_from": "recorded",
                "at_expiry": at_expiry,
                "description": description,
            },
        )
