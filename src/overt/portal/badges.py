"""Badge counters beside navigation links: a small registry of named counters.

A link names its counter (`NavLink.badge`); the portal works out only the counters of the
links a user is shown. Counters live here because the portal may read every stage; a
stage that wants a new badge adds its counter to this registry, by name.

Registered names: alerts, reviews, approvals, shares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from overt.access.matrix import Capability, has_capability
from overt.access.services import role_of

Counter = Callable[[Any], int]  # the signed-in user -> how many things wait for them
COUNTERS: dict[str, Counter] = {}


def counter(name: str) -> Callable[[Counter], Counter]:
    def add(fn: Counter) -> Counter:
        if name in COUNTERS:
            raise ValueError(f"badge counter {name!r} is registered twice")
        COUNTERS[name] = fn
        return fn

    return add


def counts(user: Any, names: set[str]) -> dict[str, int]:
    """The named counters for `user`; an unknown name counts nothing."""
    return {name: COUNTERS[name](user) for name in names if name in COUNTERS}


@counter("alerts")
def waiting_alerts(user: Any) -> int:
    """Break-glass and lockout alerts nobody has acknowledged."""
    if not has_capability(role_of(user), Capability.SEE_ALERTS):
        return 0
    from overt.access.models import Alert

    return Alert.objects.filter(acknowledged_at__isnull=True).count()


@counter("reviews")
def reviews_due(user: Any) -> int:
    """Footage whose retention has ended under a review policy: someone must decide."""
    if not has_capability(role_of(user), Capability.MANAGE_RETENTION):
        return 0
    from .homes import reviews_due

    return reviews_due()[0]


@counter("approvals")
def approvals_waiting(user: Any) -> int:
    """Early-deletion requests by someone else, waiting for a second person."""
    if not has_capability(role_of(user), Capability.MANAGE_RETENTION):
        return 0
    from overt.retention.models import DeletionRequest

    pending = DeletionRequest.objects.filter(status=DeletionRequest.Status.PENDING)
    return pending.exclude(requested_by=user).count()


@counter("shares")
def active_shares(user: Any) -> int:
    """Recordings shared with the user, unexpired and unrevoked."""
    from overt.access.models import Share

    now = timezone.now()
    return Share.objects.filter(
        Q(grantee=user), Q(revoked_at__isnull=True), Q(expires_at__gt=now)
    ).count()
