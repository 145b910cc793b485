"""Cases, what they gather, who is on them, and the links that take them outside the force.

Every change to these rows goes through `overt.cases.services` or `overt.cases.sharing`,
which write it to the custody log in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from overt.evidence.models import Derivative, Recording

USER = settings.AUTH_USER_MODEL


class Case(models.Model):
    """An investigation: footage from any number of incidents, and what was made of it."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        CLOSED = "closed", "closed"

    reference = models.CharField(max_length=64, unique=True, help_text="e.g. URN 01YE1234526")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    officer_in_charge = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disclosure_officer = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"


class CaseMember(models.Model):
    """Someone on a case: its items stand in the `case` relation to them (the matrix)."""

    class Part(models.TextChoices):
        OFFICER_IN_CHARGE = "officer-in-charge", "officer in charge"
        DISCLOSURE_OFFICER = "disclosure-officer", "disclosure officer"
        MEMBER = "member", "member of the case team"
        PROSECUTOR = "prosecutor", "prosecutor (CPS)"
        DEFENCE = "defence", "defence"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="overt_cases")
    part = models.CharField(max_length=24, choices=Part.choices)
    added_by = models.CharField(max_length=200)
    added_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True, help_text="Last opened: what is new.")

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at"])]

    @classmethod
    def active(cls, now: datetime | None = None) -> models.QuerySet[CaseMember]:
        now = now or timezone.now()
        return cls.objects.filter(ended_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class CaseDocument(models.Model):
    """A PDF or picture uploaded to a case (a statement, a plan, an MG form), stored by hash."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    uploaded_by = models.CharField(max_length=200)
    uploaded_at = models.DateTimeField(default=timezone.now)


class CaseItem(models.Model):
    """One thing in a case: a recording, a derivative of one, or a document."""

    class Kind(models.TextChoices):
        RECORDING = "recording", "recording"
        CLIP = "clip", "clip"
        STILL = "still", "still"
        REDACTED = "redacted", "redacted copy"
        TRANSCRIPT = "transcript", "transcript"
        DOCUMENT = "document", "document"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The recording the item is, or is made from (access is decided on it); none: a document.
    recording = models.ForeignKey(
        Recording, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    derivative = models.ForeignKey(
        Derivative, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    document = models.ForeignKey(
        CaseDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hold_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The retention hold (kind `case`) this item set."
    )
    do_not_disclose = models.BooleanField(default=False)
    do_not_disclose_reason = models.TextField(blank=True)
    note = models.TextField(blank=True)
    added_by = models.CharField(max_length=200)
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "recording"],
                condition=Q(kind="recording", removed_at__isnull=True),
                name="case_recording_once",
            ),
            models.UniqueConstraint(
                fields=["case", "derivative"],
                condition=Q(derivative__isnull=False, removed_at__isnull=True),
                name="case_derivative_once",
            ),
        ]

    @property
    def label(self) -> str:
        if self.document is not None:
            return self.document.filename
        if self.derivative_id is not None:
            return (
                f"{self.get_kind_display()} {self.derivative_id} of recording {self.recording_id}"
            )
        title = self.recording.title if self.recording is not None else ""
        return f"recording {self.recording_id}" + (f": {title}" if title else "")


class ExternalShare(models.Model):
    """A link and a one-time code for someone with no overt account.

    The id is the unguessable part of the link (128 random bits); the code is a second
    secret, shown once to the sharer, of which only an argon2 hash is kept.
    """

    id = models.CharField(primary_key=True, max_length=32, editable=False)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="shares"
    )
    recording = models.ForeignKey(
        Recording, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient_name = models.CharField(max_length=200)
    recipient_organisation = models.CharField(max_length=200, blank=True)
    recipient_email = models.EmailField()
    expires_at = models.DateTimeField()
    allow_download = models.BooleanField(default=False)
    code_hash = models.CharField(max_length=200)
    emailed = models.BooleanField(default=False)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=200, blank=True)
    revoke_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=True, recording__isnull=False)
                | Q(case__isnull=False, recording__isnull=True),
                name="external_share_one_target",
            )
        ]


class SharedItem(models.Model):
    """What a share holds, fixed when it is made: the receipt lists these with hashes."""

    share = models.ForeignKey(ExternalShare, on_delete=models.CASCADE, related_name="items")
    case_item = models.ForeignKey(
        CaseItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16)
    recording = models.ForeignKey(
        Recording, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    derivative = models.ForeignKey(
        Derivative, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    document = models.ForeignKey(
        CaseDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    label = models.CharField(max_length=300)
    files = models.JSONField(default=list, help_text="[{name, sha256, size}] at sharing time.")

    class Meta:
        ordering = ["id"]


class ShareEvent(models.Model):
    """What happened on a share: the receipt's timeline, and the rate limit's count."""

    class Kind(models.TextChoices):
        CREATED = "created", "shared"
        OPENED = "opened", "opened with the code"
        WRONG_CODE = "wrong-code", "wrong code"
        LIMITED = "rate-limited", "refused: too many wrong codes"
        VIEWED = "viewed", "watched"
        DOWNLOADED = "downloaded", "downloaded"
        REFUSED = "refused", "refused"
        REVOKED = "revoked", "revoked"

    # None: a link that names no share (a guessed id), counted against the address.
    share = models.ForeignKey(
        ExternalShare, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    item = models.ForeignKey(
        SharedItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    address = models.CharField(max_length=64, blank=True, db_index=True)
    detail = models.CharField(max_length=500, blank=True)
    custody_index = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["at", "id"]


class CaseLog(models.Model):
    """The custody entries about a case, by index: its page's custody timeline."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="log")
    custody_index = models.BigIntegerField()
    action = models.CharField(max_length=32)
    summary = models.CharField(max_length=500)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["custody_index"]


class WatermarkedCopy(models.Model):
    """A shared video with its recipient's marks burned in, made once when the share is made
    (bench/sharing.py: serving it beats encoding each stream live). Not evidence: kept
    outside the write-once store, under $OVERT_HOME/watermarked, and deleted when the share
    ends."""

    item = models.ForeignKey(SharedItem, on_delete=models.CASCADE, related_name="copies")
    part = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    text = models.CharField(max_length=300)
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "part"], name="one_watermarked_copy_per_part")
        ]
