""" "Shared with me" for internal prosecutors and investigators: the cases they are on and
the single recordings shared with their account, by whom, until when and what is new. The
page (overt.cases.views.shares) and the API (overt.cases.share_api) both read this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from overt.access.models import Share
from overt.access.services import User, visible_recordings

from .models import CaseMember


@dataclass(frozen=True)
class CaseRow:
    member: CaseMember
    new: int  # items added since the person last opened the case
    first_time: bool  # never opened


@dataclass(frozen=True)
class SharedWithMe:
    cases: list[CaseRow]
    recordings: list[Share]
    now: datetime


def shared_with(user: User, now: datetime | None = None) -> SharedWithMe:
    """What is shared with `user` now: live memberships, and live account shares of the
    recordings the matrix still lets them list (a share never outranks the matrix)."""
    now = now or timezone.now()
    if not user.is_authenticated:
        return SharedWithMe([], [], now)
    memberships = (
        CaseMember.active(now)
        .filter(user_id=int(str(user.pk)))
        .select_related("case")
        .order_by("-added_at")
    )
    rows = []
    for member in memberships:
        since = member.seen_at or member.added_at
        new = member.case.items.filter(removed_at__isnull=True, added_at__gt=since).count()
        rows.append(CaseRow(member, new, member.seen_at is None))
    direct = list(
        Share.active(now)
        .filter(grantee_id=user.pk)
        .select_related("recording")
        .order_by("-created_at")
    )
    visible = set(
        visible_recordings(user)
        .filter(pk__in=[s.recording_id for s in direct])
        .values_list("pk", flat=True)
    )
    return SharedWithMe(rows, [s for s in direct if s.recording_id in visible], now)
