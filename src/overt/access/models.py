"""Who people are to overt, and every grant that widens or narrows what they may see.

Each change to these rows goes through `overt.access.services`, which writes it to the
custody log in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from overt.evidence.models import Incident, Officer, Recording

from .matrix import Role

USER = settings.AUTH_USER_MODEL


class UserProfile(models.Model):
    """One role per user; officers (and camera-wearing supervisors) link to their Officer."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="overt_profile")
    role = models.CharField(max_length=32, choices=[(r.value, r.value) for r in Role])
    officer = models.OneToOneField(
        Officer, on_delete=models.PROTECT, null=True, blank=True, related_name="user_profile"
    )
    team = models.CharField(
        max_length=100, blank=True, help_text="The team a supervisor supervises."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class Assignment(models.Model):
    """An investigator assigned to a recording, or to every recording of an incident."""

    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="overt_assignments")
    recording = models.ForeignKey(
        Recording, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(recording__isnull=True, incident__isnull=False)
                | Q(recording__isnull=False, incident__isnull=True),
                name="assignment_one_target",
            )
        ]


class Share(models.Model):
    """A time-limited grant of one recording to a prosecutor or the defence."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="+")
    grantee = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="overt_shares")
    expires_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["grantee", "expires_at"])]

    @classmethod
    def active(cls, now: datetime | None = None) -> models.QuerySet[Share]:
        return cls.objects.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class AccessClass(models.Model):
    """A recording marked restricted or confidential: only the named users or roles see it."""

    class Level(models.TextChoices):
        RESTRICTED = "restricted", "restricted"
        CONFIDENTIAL = "confidential", "confidential"

    recording = models.OneToOneField(
        Recording, on_delete=models.CASCADE, related_name="access_class"
    )
    level = models.CharField(max_length=16, choices=Level.choices)
    reason = models.TextField(blank=True)
    set_by = models.CharField(max_length=200)
    set_at = models.DateTimeField(default=timezone.now)


class AccessClassMember(models.Model):
    """One named user, or one named role, who may see a classed recording."""

    access_class = models.ForeignKey(AccessClass, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        USER, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=True, role__gt="") | Q(user__isnull=False, role=""),
                name="access_member_user_or_role",
            )
        ]


class PostIncidentProcedure(models.Model):
    """After a police shooting: the involved officers may not see the incident's footage
    until the Post Incident Manager records a release."""

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="+")
    officers = models.ManyToManyField(Officer, related_name="+")
    manager = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    started_by = models.CharField(max_length=200)
    started_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=200, blank=True)
    release_note = models.TextField(blank=True)

    @property
    def locked(self) -> bool:
        return self.released_at is None


class BreakGlass(models.Model):
    """Emergency access to one recording the user may not normally see, for a while."""

    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()
    at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()


class Alert(models.Model):
    """Something an evidence manager must look at: a break-glass opening, a lockout."""

    class Kind(models.TextChoices):
        BREAK_GLASS = "break-glass", "break-glass access"
        LOCKOUT = "lockout", "account locked after failed logins"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    message = models.TextField()
    recording = models.ForeignKey(
        Recording, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    username = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ApiToken(models.Model):
    """A scoped token for an integration. Only the SHA-256 of the token is kept."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="overt_tokens")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, help_text="Shown to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=200, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)


class LoginFailure(models.Model):
    """One failed sign-in attempt (password, second factor or SSO)."""

    username = models.CharField(max_length=200, db_index=True)
    address = models.CharField(max_length=64, blank=True, db_index=True)
    reason = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now, db_index=True)


class Lockout(models.Model):
    """An account (or a client address) refused sign-in after repeated failures."""

    username = models.CharField(max_length=200, blank=True, db_index=True)
    address = models.CharField(max_length=64, blank=True, db_index=True)
    failures = models.PositiveIntegerField()
    locked_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.CharField(max_length=200, blank=True)
