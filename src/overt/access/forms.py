"""Forms for signing in, the second factor, break-glass, post-incident release and a
recording's access page (access class, assignments, shares)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from .matrix import Relation, Role, cell
from .models import Assignment
from .services import role_of


class LoginForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(strip=False, widget=forms.PasswordInput)


class TokenForm(forms.Form):
    token = forms.RegexField(
        regex=r"^\s*\d{6,8}\s*$",
        label="Code",
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app.",
            "invalid": "The code is 6 digits.",
        },
    )


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Say what the emergency is.",
            "min_length": "Say what the emergency is, in a few words.",
        },
    )


class ReleaseForm(forms.Form):
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- the recording's access page (/recordings/ID/access) ------------------------------

MAX_SHARE_DAYS = 365  # as `overt access share --days`: a share is never open-ended
REASON_MAX_LENGTH = 2000


def _reason_field(what: str) -> forms.CharField:
    return forms.CharField(
        label="Reason",
        help_text="Goes into the custody log with your username.",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": f"Say why you {what}."},
    )


def _find_user(username: str):
    return get_user_model().objects.filter(username=username).first()


def _gains(role: Role | None, relation: Relation) -> bool:
    """Does this role get anything from `relation` that it does not have anyway?"""
    return bool(cell(role, relation) - cell(role, Relation.OTHER))


def _grantee(username: str, relation: Relation, what: str):
    """The user named, if a grant of `relation` gives their role something."""
    user = _find_user(username)
    if user is None:
        raise forms.ValidationError(f"There is no user {username!r}.")
    role = role_of(user)
    if not _gains(role, relation):
        fitting = " or ".join(r.value for r in Role if _gains(r, relation))
        who = f"{username} has the {role.value} role" if role else f"{username} has no role"
        raise forms.ValidationError(
            f"{who}, which gets nothing from {what}. Choose a user with the {fitting} role."
        )
    return user


def _picker(relation: Relation) -> forms.Select:
    """A list of the active users a grant of `relation` gives something, instead of a
    typed username (the value posted is still the username, checked by _grantee)."""
    from .models import UserProfile

    roles = [r.value for r in Role if _gains(r, relation)]
    rows = (
        UserProfile.objects.filter(role__in=roles, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    choices = [("", "Choose a user")] + [
        (p.user.get_username(), f"{p.user.get_username()} ({p.role})") for p in rows
    ]
    return forms.Select(choices=choices)


def _everyone() -> list[tuple[str, str]]:
    """Every active user as a choice, "name (role)", for the access class's member list."""
    from .models import UserProfile

    roles = dict(UserProfile.objects.values_list("user_id", "role"))
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return [
        (u.get_username(), f"{u.get_username()} ({roles.get(u.pk) or 'no role'})") for u in users
    ]


class AccessClassForm(forms.Form):
    """Mark the recording restricted or confidential: only the named users and roles see it."""

    level = forms.ChoiceField(
        label="Level",
        choices=[("restricted", "Restricted"), ("confidential", "Confidential")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose restricted or confidential.",
            "invalid_choice": "Choose restricted or confidential.",
        },
    )
    users = forms.MultipleChoiceField(
        label="Users who may see it",
        help_text="Tick each user; the list holds every active user, with their role.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "There is no user '%(value)s'."},
    )
    roles = forms.MultipleChoiceField(
        label="Roles who may see it",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "There is no role %(value)s."},
    )
    exclude_me = forms.BooleanField(
        label="Set it even though I will no longer see this recording",
        help_text="Needed when you name neither yourself nor your role.",
        required=False,
    )
    reason = _reason_field("are changing who may see this recording")

    def __init__(self, *args, by=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.by = by
        roles = cast(forms.MultipleChoiceField, self.fields["roles"])  # declared above
        roles.choices = [(r.value, r.value) for r in Role]
        users = cast(forms.MultipleChoiceField, self.fields["users"])
        users.choices = _everyone()

    def clean_users(self) -> list:
        names = self.cleaned_data["users"]
        found = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names)}
        return [found[n] for n in names if n in found]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean gives cleaned_data
        users, roles = data.get("users"), data.get("roles")
        if users is None or roles is None:
            return data  # already refused
        if not users and not roles:
            self.add_error("users", "Name at least one user or role who may see it.")
        elif self.by is not None and not data.get("exclude_me"):
            role = role_of(self.by)
            if self.by not in users and (role is None or role.value not in roles):
                self.add_error(
                    "exclude_me",
                    "You name neither yourself nor your role, so you would no longer see "
                    "this recording (nor manage its access here). Name yourself or your "
                    "role, or tick this box to set it anyway.",
                )
        return data


class ClearAccessClassForm(forms.Form):
    reason = _reason_field("are clearing the access class")


class AssignForm(forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=150,
        error_messages={"required": "Enter the username of the investigator to assign."},
    )
    target = forms.ChoiceField(
        label="Assign to",
        choices=[("recording", "This recording")],
        initial="recording",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose this recording or its incident."},
    )
    reason = _reason_field("are assigning them")

    def __init__(self, *args, recording=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.recording = recording
        self.fields["username"].widget = _picker(Relation.ASSIGNED)
        self.fields["username"].label = "User"
        if recording is not None and recording.incident_id is not None:
            target = cast(forms.ChoiceField, self.fields["target"])  # declared above
            target.choices = [
                ("recording", "This recording"),
                ("incident", f"Every recording of incident {recording.incident.reference}"),
            ]

    def clean_username(self):
        return _grantee(self.cleaned_data["username"].strip(), Relation.ASSIGNED, "an assignment")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean gives cleaned_data
        user, target = data.get("username"), data.get("target")
        if user is not None and target and self.recording is not None:
            current = Assignment.objects.filter(user=user, ended_at__isnull=True)
            if target == "incident":
                current = current.filter(incident_id=self.recording.incident_id)
            else:
                current = current.filter(recording=self.recording)
            if current.exists():
                self.add_error("username", f"{user.get_username()} is already assigned to it.")
        return data


class ShareForm(forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=150,
        error_messages={"required": "Enter the username to share with."},
    )
    expires_at = forms.DateTimeField(
        label="Until",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": "Enter the date and time the share ends.",
            "invalid": "Enter the date and time the share ends: a day, a month, a year and a time.",
        },
    )
    reason = _reason_field("are sharing it")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget = _picker(Relation.SHARED)
        self.fields["username"].label = "User"
        now, shown = timezone.localtime(), "%Y-%m-%dT%H:%M"
        field = self.fields["expires_at"]
        field.help_text = (
            f"Date and time ({timezone.get_current_timezone_name()}), at most "
            f"{MAX_SHARE_DAYS} days from now."
        )
        field.widget.attrs.update(
            min=now.strftime(shown),
            max=(now + timedelta(days=MAX_SHARE_DAYS)).strftime(shown),
        )

    def clean_username(self):
        return _grantee(self.cleaned_data["username"].strip(), Relation.SHARED, "a share")

    def clean_expires_at(self):
        value = self.cleaned_data["expires_at"]
        now = timezone.now()
        if value <= now:
            raise forms.ValidationError("The share must end in the future.")
        if value > now + timedelta(days=MAX_SHARE_DAYS):
            raise forms.ValidationError(
                f"A share lasts at most {MAX_SHARE_DAYS} days; share again when it ends."
            )
        return value
