"""Break-glass: opening a recording the user may not normally see, in an emergency; logged,
and evidence managers alerted (their alerts are acknowledged here too)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from overt.conf import get_settings
from overt.custody.services import Actor, Client
from overt.evidence.models import Recording

from .grants import GrantError
from .identity import User as AnyUser
from .identity import forget
from .matrix import Capability, Relation
from .models import Alert, BreakGlass
from .recording_log import record_for_recording
from .services import AccessDenied, capability, relations


def break_glass(
    user: User,
    recording: Recording,
    reason: str,
    *,
    client: Client | None = None,
) -> BreakGlass:
    """Open a recording the user may not normally see. Logged; evidence managers alerted."""
    actor = Actor("user", user.get_username())
    reason = reason.strip()
    if not capability(user, Capability.BREAK_GLASS):
        raise AccessDenied("your role may not use break-glass access")
    if len(reason) < 10:
        raise GrantError("say what the emergency is (at least a few words)")
    found = relations(user, recording)
    if Relation.LOCKED in found:
        record_for_recording(
            "access-refused",
            actor,
            recording,
            client=client,
            details={"action": "break-glass", "reason": "post-incident procedure"},
        )
        raise AccessDenied(
            "break-glass never opens footage to an officer involved in a post-incident procedure"
        )
    minutes = get_settings().break_glass_minutes
    now = timezone.now()
    with transaction.atomic():
        row = BreakGlass.objects.create(
            user=user,
            recording=recording,
            reason=reason,
            at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        Alert.objects.create(
            kind=Alert.Kind.BREAK_GLASS,
            message=f"{user.get_username()} used break-glass access on recording "
            f"{recording.pk}: {reason}",
            recording=recording,
            username=user.get_username(),
        )
        record_for_recording(
            "break-glass",
            actor,
            recording,
            justification=reason,
            client=client,
            details={"minutes": minutes, "relations": sorted(r.value for r in found)},
        )
    forget(user)
    return row


@transaction.atomic
def acknowledge(alert: Alert, user: AnyUser) -> None:
    alert.acknowledged_at, alert.acknowledged_by = timezone.now(), user.get_username()
    alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
