"""The case service: opening cases, gathering items, putting people on them.

Who may see a case: evidence managers (`manage-access`) see every case, everyone else the
cases they are on. Who may change one: a holder of `manage-cases` who sees it. Whether
an item may join is the access matrix's decision on its recording (`edit`), asked through
`overt.access.services.check`, which logs a refusal. Every change is a custody entry
(`case-change`) in the same transaction, on each original it concerns, and an open case
holds its footage through the retention app's own holds (kind `case`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from overt import errors
from overt.access.services import Capability, User, capability, require
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor, Client, Subject, record
from overt.retention.holds import release_hold

from .models import Case, CaseItem, CaseLog, CaseMember

EDITING_PARTS = {
    CaseMember.Part.OFFICER_IN_CHARGE,
    CaseMember.Part.DISCLOSURE_OFFICER,
    CaseMember.Part.MEMBER,
}


def actor_of(user: User) -> Actor:
    return Actor("user", user.get_username())


# --- seeing ------------------------------------------------------------------------------


def visible_cases(user: User) -> QuerySet[Case]:
    if capability(user, Capability.MANAGE_ACCESS):
        return Case.objects.all()
    if not user.is_authenticated:
        return Case.objects.none()
    mine = CaseMember.active().filter(user_id=int(user.pk)).values("case_id")
    return Case.objects.filter(pk__in=mine)


def case_for(user: User, case_id: object) -> Case:
    """The case if `user` may see it; NotFound (revealing nothing) otherwise."""
    try:
        pk = int(str(case_id))
    except ValueError:
        raise errors.NotFound("no such case, or you may not see it") from None
    found = visible_cases(user).filter(pk=pk).first()
    if found is None:
        raise errors.NotFound("no such case, or you may not see it")
    return found


def may_change(user: User, case: Case) -> bool:
    if not capability(user, Capability.MANAGE_CASES):
        return False
    if capability(user, Capability.MANAGE_ACCESS):
        return True
    return (
        CaseMember.active()
        .filter(case=case, user_id=int(user.pk or 0), part__in=EDITING_PARTS)
        .exists()
    )


def _require_change(user: User, case: Case) -> None:
    require(user, Capability.MANAGE_CASES)
    if not may_change(user, case):
        raise errors.Refused(
            "only the case's officer in charge, disclosure officer or team, "
            "or an evidence manager, may change this case"
        )
    if case.status != Case.Status.OPEN:
        raise errors.Conflict(f"case {case.reference} is closed")


def require_change(user: User, case: Case) -> None:
    """Refused, or Conflict for a closed case, unless `user` may change `case`: for an edge
    that must know before it reads a large body (the items service checks again)."""
    _require_change(user, case)


def active_items(case: Case) -> QuerySet[CaseItem]:
    return case.items.filter(removed_at__isnull=True).select_related(
        "recording", "derivative", "document", "recording__officer"
    )


def items_shown_to(user: User, case: Case) -> tuple[list[CaseItem], int]:
    """The case's items whose footage `user` may know of (the matrix's `list`), and how many
    others there are: seeing a case never reveals a restricted recording's details."""
    from overt.access.services import visible_recordings

    rows = list(active_items(case))
    ids = {i.recording_id for i in rows if i.recording_id is not None}
    known = set(visible_recordings(user).filter(pk__in=ids).values_list("pk", flat=True))
    shown = [i for i in rows if i.recording_id is None or i.recording_id in known]
    return shown, len(rows) - len(shown)


# --- the log -----------------------------------------------------------------------------


def _log(case: Case, entries: Iterable[CustodyEntry], summary: str) -> None:
    CaseLog.objects.bulk_create(
        [
            CaseLog(case=case, custody_index=e.index, action=e.action, summary=summary[:500])
            for e in entries
        ]
    )


def log_case(case: Case, entries: Iterable[CustodyEntry], summary: str) -> None:
    """For the sharing service: its entries about a case join the case's timeline."""
    _log(case, entries, summary)


def _case_entry(
    case: Case, actor: Actor, details: dict[str, Any], client: Client | None, reason: str = ""
) -> CustodyEntry:
    return record(
        "case-change",
        actor,
        Subject("", {"case": case.pk}),
        justification=reason,
        client=client,
        details={"case": case.pk, "reference": case.reference, **details},
    )


# --- cases -------------------------------------------------------------------------------


def _user_named(username: str | None, field: str) -> Any:
    if not username:
        return None
    found = get_user_model().objects.filter(username=username, is_active=True).first()
    if found is None:
        raise errors.Invalid(f"no active user {username!r}", field=field)
    return found


def create_case(
    user: User,
    reference: str,
    title: str,
    *,
    officer_in_charge: str | None = None,
    disclosure_officer: str | None = None,
    client: Client | None = None,
) -> Case:
    require(user, Capability.MANAGE_CASES)
    reference, title = (reference or "").strip(), (title or "").strip()
    if not reference or len(reference) > 64:
        raise errors.Invalid("a case needs a reference of at most 64 characters", field="reference")
    if not title or len(title) > 200:
        raise errors.Invalid("a case needs a title of at most 200 characters", field="title")
    oic = _user_named(officer_in_charge, "officer_in_charge")
    disclosure = _user_named(disclosure_officer, "disclosure_officer")
    actor = actor_of(user)
    with transaction.atomic():
        if Case.objects.filter(reference=reference).exists():
            raise errors.Conflict(f"a case with reference {reference!r} already exists")
        case = Case.objects.create(
            reference=reference,
            title=title,
            officer_in_charge=oic,
            disclosure_officer=disclosure,
            created_by=str(actor),
        )
        # The creator is on the case; so are its officer in charge and disclosure officer.
        parts: list[tuple[Any, str]] = [(user, CaseMember.Part.MEMBER)]
        if oic is not None:
            parts.append((oic, CaseMember.Part.OFFICER_IN_CHARGE))
        if disclosure is not None:
            parts.append((disclosure, CaseMember.Part.DISCLOSURE_OFFICER))
        for who, part in parts:
            CaseMember.objects.create(case=case, user=who, part=part, added_by=str(actor))
        entry = _case_entry(
            case,
            actor,
            {
                "change": "case-opened",
                "title": title,
                "officer_in_charge": oic.get_username() if oic else "",
                "disclosure_officer": disclosure.get_username() if disclosure else "",
            },
            client,
        )
        _log(case, [entry], f"case opened by {user.get_username()}")
    return case


def close_case(user: User, case: Case, *, reason: str, client: Client | None = None) -> Case:
    """Close a case: its holds are released (retention applies again), access stays."""
    _require_change(user, case)
    if not reason.strip():
        raise errors.Invalid("closing a case needs a reason", field="reason")
    actor = actor_of(user)
    with transaction.atomic():
        for item in active_items(case).filter(hold_id__isnull=False):
            _release(item, actor, f"case {case.reference} closed: {reason}")
        case.status, case.closed_at = Case.Status.CLOSED, timezone.now()
        case.save(update_fields=["status", "closed_at"])
        entry = _case_entry(case, actor, {"change": "case-closed"}, client, reason)
        _log(case, [entry], f"case closed: {reason}")
    return case


def _release(item: CaseItem, actor: Actor, reason: str) -> None:
    if item.hold_id is None or item.recording_id is None:
        return
    release_hold(item.recording_id, reason=reason, actor=actor, hold_id=item.hold_id)
    item.hold_id = None
    item.save(update_fields=["hold_id"])


def add_member(
    user: User,
    case: Case,
    username: str,
    part: str,
    *,
    expires_at: datetime | None = None,
    client: Client | None = None,
) -> CaseMember:
    """Put someone on the case: the matrix's `case` cell for their role decides what for."""
    _require_change(user, case)
    if part not in CaseMember.Part.values:
        raise errors.Invalid(
            f"part must be one of {', '.join(CaseMember.Part.values)}", field="part"
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise errors.Invalid("an expiry must be in the future", field="expires_at")
    who = _user_named(username, "user")
    actor = actor_of(user)
    with transaction.atomic():
        member = CaseMember.objects.create(
            case=case, user=who, part=part, added_by=str(actor), expires_at=expires_at
        )
        entry = record(
            "permission-change",
            actor,
            Subject("", {"case": case.pk}),
            client=client,
            details={
                "change": "case-member-added",
                "case": case.pk,
                "user": username,
                "part": part,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
        _log(case, [entry], f"{username} put on the case as {part}")
    return member


def end_member(
    user: User, case: Case, member_id: object, *, client: Client | None = None
) -> CaseMember:
    """Take someone off the case. A closed case may lose people too: taking access away is
    how a closed case's team is wound down, so only the right to change it is asked."""
    require(user, Capability.MANAGE_CASES)
    if not may_change(user, case):
        _require_change(user, case)  # its refusal, worded once
    try:
        pk = int(str(member_id))
    except ValueError:
        raise errors.NotFound("no such person on this case") from None
    member = CaseMember.active().filter(case=case, pk=pk).select_related("user").first()
    if member is None:
        raise errors.NotFound("no such person on this case")
    actor = actor_of(user)
    with transaction.atomic():
        member.ended_at = timezone.now()
        member.save(update_fields=["ended_at"])
        entry = record(
            "permission-change",
            actor,
            Subject("", {"case": case.pk}),
            client=client,
            details={
                "change": "case-member-ended",
                "case": case.pk,
                "user": member.user.get_username(),
            },
        )
        _log(case, [entry], f"{member.user.get_username()} taken off the case")
    return member


def members_named(case: Case, username: str) -> list[CaseMember]:
    """The case's live memberships of one person (the CLI names people, not membership ids)."""
    return list(
        CaseMember.active().filter(case=case, user__username=username).select_related("user")
    )
