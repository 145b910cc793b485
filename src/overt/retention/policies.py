"""Retention policies and the categories under them. Every change is a custody
`config-change` entry, in the change's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Category

from . import clock
from .common import NotFound
from .models import CategoryPolicy, RetentionPolicy
from .rules import Period, Rule


@dataclass(frozen=True)
class PolicyRow:
    """A policy, its rule in words, and the categories under it."""

    name: str
    period: str
    starts_from: str
    at_expiry: str
    rule: str
    description: str
    categories: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "period": self.period,
            "starts_from": self.starts_from,
            "at_expiry": self.at_expiry,
            "rule": self.rule,
            "description": self.description,
            "categories": list(self.categories),
        }


def set_policy(
    name: str,
    *,
    period: Period,
    starts_from: str,
    at_expiry: str,
    description: str = "",
    actor: Actor,
) -> RetentionPolicy:
    """Create or change a policy (a custody `config-change`)."""
    Rule(name, period, starts_from, at_expiry)  # validates
    with transaction.atomic():
        policy = RetentionPolicy.objects.select_for_update().filter(name=name).first()
        before = _policy_json(policy) if policy else None
        if policy is None:
            policy = RetentionPolicy(name=name)
        policy.years, policy.months, policy.days = period.astuple()
        policy.starts_from = starts_from
        policy.at_expiry = at_expiry
        if description:
            policy.description = description
        policy.save()
        record(
            "config-change",
            actor,
            Subject("", {"retention_policy": policy.pk}),
            details={"retention_policy": name, "before": before, "after": _policy_json(policy)},
            at=clock.now(),
        )
    return policy


def assign_policy(category: str, policy_name: str, *, actor: Actor) -> CategoryPolicy:
    """Put a category under a policy, creating the category if it is new."""
    with transaction.atomic():
        policy = RetentionPolicy.objects.filter(name=policy_name).first()
        if policy is None:
            known = ", ".join(RetentionPolicy.objects.values_list("name", flat=True))
            raise NotFound(f"unknown retention policy {policy_name!r} (known: {known})")
        cat, _ = Category.objects.get_or_create(name=category)
        link = CategoryPolicy.objects.select_for_update().filter(category=cat).first()
        before = link.policy.name if link else None
        if link is None:
            link = CategoryPolicy(category=cat)
        link.policy = policy
        link.assigned_at = clock.now()
        link.assigned_by = str(actor)
        link.save()
        record(
            "config-change",
            actor,
            Subject("", {"category": cat.pk}),
            details={"category": category, "policy_before": before, "policy_after": policy.name},
            at=clock.now(),
        )
    return link


def _policy_json(policy: RetentionPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "period": str(policy.period),
        "starts_from": policy.starts_from,
        "at_expiry": policy.at_expiry,
        "rule": policy.rule().describe(),
        "description": policy.description,
    }


def policies() -> list[PolicyRow]:
    out = []
    for policy in RetentionPolicy.objects.prefetch_related("links__category"):
        categories = tuple(sorted(link.category.name for link in policy.links.all()))
        out.append(PolicyRow(**_policy_json(policy), categories=categories))
    return out


def categories_without_policy() -> list[str]:
    return list(
        Category.objects.filter(retention__isnull=True)
        .order_by("name")
        .values_list("name", flat=True)
    )
