"""What each role's home page shows: small typed summaries read from the stages' models
and services. Nothing here changes anything; each list is already narrowed by the access
service (a home page never shows a recording its reader may not list).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from overt.access.identity import standing
from overt.access.matrix import Role
from overt.access.models import Alert, ApiToken, Assignment, Lockout, Share, UserProfile
from overt.access.services import visible_recordings
from overt.custody.checkpoints import latest_checkpoint
from overt.custody.models import Checkpoint, CustodyHead, VerifyRun
from overt.evidence.models import Device, Original, Recording
from overt.jobs.models import Job
from overt.retention.models import DeletionRequest, Disposal, Hold
from overt.uploads.models import DeviceToken

SHOWN = 10  # rows per list on a home page; each list links to its full page
REVIEW_CACHE_S = 60


def _recent(qs: QuerySet[Recording]) -> list[Recording]:
    return list(qs.select_related("officer").order_by("-trigger_on_at", "-pk")[:SHOWN])


@dataclass
class OfficerHome:
    recent: list[Recording]
    uncategorised: int
    without_bookmarks: list[Recording]


def officer_home(user: Any) -> OfficerHome:
    officer_id = standing(user).officer_id
    mine = visible_recordings(user)
    mine = mine.filter(officer_id=officer_id) if officer_id is not None else mine.none()
    return OfficerHome(
        recent=_recent(mine),
        uncategorised=mine.filter(categories__isnull=True).count(),
        without_bookmarks=_recent(mine.filter(markers__isnull=True)),
    )


@dataclass
class SupervisorHome:
    team: str
    backlog: list[Recording]
    backlog_count: int
    reviews_due: list[Any]
    own: list[Recording]


def _review_keys(team: str) -> tuple[str, str]:
    digest = hashlib.sha256(team.encode("utf-8")).hexdigest()[:16]
    return "portal:reviews-due:count", f"portal:reviews-due:team:{digest}"


def reviews_due(team: str | None = None) -> tuple[int, list[Any]]:
    """How much footage is due for a retention review, and up to SHOWN rows of `team`.

    Working it out walks every live recording's retention, so the answer is kept for a
    minute, and small: the count, and each team's first rows under its own key (a whole
    force's list took longer to unpickle than to show)."""
    from django.core.cache import cache

    count_key, team_key = _review_keys(team or "")
    found = cache.get_many([count_key, team_key])
    if count_key in found and (team is None or team_key in found):
        return int(found[count_key]), list(found.get(team_key, []))
    from overt.retention.services import review_due

    rows = review_due()
    by_team: dict[str, list[Any]] = {}
    for row in rows:
        shown = by_team.setdefault(_review_keys(row.team)[1], [])
        if len(shown) < SHOWN:
            shown.append(row)
    if team is not None:
        by_team.setdefault(team_key, [])
    cache.set_many({count_key: len(rows), **by_team}, REVIEW_CACHE_S)
    return len(rows), by_team.get(team_key, [])


def supervisor_home(user: Any) -> SupervisorHome:
    who = standing(user)
    team = visible_recordings(user).filter(officer__team=who.team) if who.team else None
    backlog = team.filter(categories__isnull=True) if team is not None else None
    return SupervisorHome(
        team=who.team,
        backlog=_recent(backlog) if backlog is not None else [],
        backlog_count=backlog.count() if backlog is not None else 0,
        reviews_due=reviews_due(who.team)[1] if who.team else [],
        own=_recent(visible_recordings(user).filter(officer_id=who.officer_id))
        if who.officer_id
        else [],
    )


@dataclass
class ManagerHome:
    jobs: dict[str, int]
    failed_jobs: list[Job]
    unplayable: list[Original]
    holds: list[Hold]
    holds_count: int
    recycled: int
    approvals: list[DeletionRequest]
    mine_pending: list[DeletionRequest]
    uncategorised: int
    ingested_today: int


def manager_home(user: Any) -> ManagerHome:
    since = timezone.now() - timedelta(days=1)
    by_status = dict(Job.objects.values_list("status").annotate(n=Count("id")).order_by())
    pending = DeletionRequest.objects.filter(status=DeletionRequest.Status.PENDING)
    active_holds = Hold.objects.filter(released_at__isnull=True)
    return ManagerHome(
        jobs={str(k): int(v) for k, v in by_status.items()},
        failed_jobs=list(Job.objects.filter(status=Job.Status.FAILED).order_by("-id")[:SHOWN]),
        unplayable=list(
            Original.objects.filter(playable=False)
            .select_related("recording")
            .order_by("-ingested_at")[:SHOWN]
        ),
        holds=list(active_holds.select_related("recording").order_by("-set_at")[:SHOWN]),
        holds_count=active_holds.count(),
        recycled=Disposal.objects.filter(status=Disposal.Status.RECYCLED).count(),
        approvals=list(pending.exclude(requested_by=user).select_related("requested_by")),
        mine_pending=list(pending.filter(requested_by=user)),
        uncategorised=visible_recordings(user).filter(categories__isnull=True).count(),
        ingested_today=Original.objects.filter(ingested_at__gte=since).count(),
    )


@dataclass
class GrantRow:
    recording: Recording
    expires_at: datetime | None
    granted_by: str
    days_left: int | None = None


@dataclass
class CaseworkHome:
    assigned: list[GrantRow] = field(default_factory=list)
    incidents: list[Any] = field(default_factory=list)
    shared: list[GrantRow] = field(default_factory=list)


def casework_home(user: Any) -> CaseworkHome:
    now = timezone.now()
    home = CaseworkHome()
    visible = visible_recordings(user)
    for a in (
        Assignment.objects.filter(user=user, ended_at__isnull=True)
        .select_related("recording", "incident")
        .order_by("-created_at")
    ):
        if a.incident_id is not None:
            home.incidents.append(a.incident)
        elif a.recording is not None and visible.filter(pk=a.recording.pk).exists():
            home.assigned.append(GrantRow(a.recording, None, a.created_by))
    shares = Share.objects.filter(grantee=user, revoked_at__isnull=True, expires_at__gt=now)
    for s in shares.select_related("recording").order_by("expires_at"):
        left = (s.expires_at - now).days
        home.shared.append(GrantRow(s.recording, s.expires_at, s.created_by, left))
    return home


@dataclass
class AuditorHome:
    log_size: int
    checkpoint: Checkpoint | None
    behind: int  # entries written since the latest checkpoint
    checkpoint_age: timedelta | None
    verify: VerifyRun | None
    alerts: int


def auditor_home() -> AuditorHome:
    head = CustodyHead.objects.first()
    size = head.size if head else 0
    cp = latest_checkpoint()
    return AuditorHome(
        log_size=size,
        checkpoint=cp,
        behind=size - cp.size if cp else size,
        checkpoint_age=timezone.now() - cp.issued_at if cp else None,
        verify=VerifyRun.objects.order_by("-started_at", "-id").first(),
        alerts=Alert.objects.filter(acknowledged_at__isnull=True).count(),
    )


@dataclass
class AdminHome:
    roles: dict[str, int]
    users: int
    disabled: int
    no_role: int
    locked: int
    devices: int
    devices_revoked: int
    device_tokens: int
    api_tokens: int
    tokens_expiring: list[ApiToken]
    settings: list[tuple[str, str, bool]]  # (what, state, healthy)


def _settings_health() -> list[tuple[str, str, bool]]:
    from overt.conf import get_settings
    from overt.retention.pressure import disk_pressure

    s = get_settings()
    pressure = disk_pressure()
    return [
        ("Storage space", pressure.message() or "enough free space", pressure.level == "ok"),
        ("Second factor", f"required from the {s.totp_required_from} role up", True),
        (
            "Behind TLS",
            "yes" if s.behind_tls else "no: session cookies not marked secure",
            s.behind_tls,
        ),
        ("Single sign-on", "configured" if s.oidc_client_id else "not configured", True),
        ("Store", "S3" if s.store_url.startswith("s3") else "local disk", True),
        ("Job queue", "Redis" if s.redis_url else "database", True),
        ("Debug", "on: never in service" if s.debug else "off", not s.debug),
    ]


def admin_home() -> AdminHome:
    users = get_user_model().objects
    now = timezone.now()
    roles = dict(UserProfile.objects.values_list("role").annotate(n=Count("id")).order_by())
    live = ApiToken.objects.filter(revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    return AdminHome(
        roles={str(k): int(v) for k, v in roles.items()},
        users=users.count(),
        disabled=users.filter(is_active=False).count(),
        no_role=users.exclude(pk__in=UserProfile.objects.values("user_id")).count(),
        locked=Lockout.objects.filter(until__gt=now, cleared_at__isnull=True).count(),
        devices=Device.objects.count(),
        devices_revoked=Device.objects.filter(revoked_at__isnull=False).count(),
        device_tokens=DeviceToken.objects.filter(revoked_at__isnull=True).count(),
        api_tokens=live.count(),
        tokens_expiring=list(
            live.filter(expires_at__lte=now + timedelta(days=14)).select_related("user")
        ),
        settings=_settings_health(),
    )


def home_for(user: Any) -> tuple[str, Any]:
    """The home's template name and its data, by the user's role."""
    role = standing(user).role
    if role == Role.OFFICER:
        return "officer", officer_home(user)
    if role == Role.SUPERVISOR:
        return "supervisor", supervisor_home(user)
    if role == Role.EVIDENCE_MANAGER:
        return "manager", manager_home(user)
    if role in (Role.INVESTIGATOR, Role.PROSECUTOR):
        return "casework", casework_home(user)
    if role == Role.AUDITOR:
        return "auditor", auditor_home()
    if role == Role.ADMIN:
        return "admin", admin_home()
    return "none", None
