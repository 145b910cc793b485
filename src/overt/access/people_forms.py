"""Forms of the admin's users and tokens pages (overt.access.views.people)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.utils import timezone

from overt.evidence.models import Officer

from .grants import TOKEN_SCOPES
from .matrix import ROLES_WITH_OFFICER, ROLES_WITH_TEAM, Role

ROLE_CHOICES = [(r.value, r.value) for r in Role]


def _officer_choices() -> list[tuple[str, str]]:
    rows = Officer.objects.filter(active=True).order_by("number").values_list("number", "name")
    return [("", "None")] + [(n, f"{n} {name}") for n, name in rows]


def _user_choices() -> list[tuple[str, str]]:
    names = get_user_model().objects.filter(is_active=True).order_by("username")
    return [(u, u) for u in names.values_list("username", flat=True)]


class RoleFields(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    officer = forms.ChoiceField(
        required=False, help_text="For officers and supervisors who wear a camera."
    )
    team = forms.CharField(
        required=False, max_length=100, help_text="The team a supervisor supervises."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer"].choices = _officer_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        if role and data.get("officer") and Role(role) not in ROLES_WITH_OFFICER:
            self.add_error("officer", "Only officers and supervisors are linked to an officer.")
        if role and data.get("team") and Role(role) not in ROLES_WITH_TEAM:
            self.add_error("team", "Only a supervisor has a team.")
        return data

    def officer_row(self) -> Officer | None:
        number = self.cleaned_data.get("officer")
        return Officer.objects.filter(number=number).first() if number else None


class AddUserForm(RoleFields):
    field_order = ["username", "role", "officer", "team", "email", "password"]
    username = forms.RegexField(
        regex=r"^[\w.@+-]{1,150}$",
        max_length=150,
        error_messages={"invalid": "Letters, digits and . @ + - _ only."},
    )
    email = forms.EmailField(required=False)
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty for a user who signs in only by single sign-on.",
    )

    def clean_username(self) -> str:
        name: str = self.cleaned_data["username"]
        if get_user_model().objects.filter(username=name).exists():
            raise forms.ValidationError("A user with this name exists already.")
        return name

    def clean_password(self) -> str:
        password: str = self.cleaned_data.get("password") or ""
        if password:
            validate_password(password)
        return password


class TokenForm(forms.Form):
    user = forms.ChoiceField(help_text="The token acts as this user, narrowed to its scopes.")
    name = forms.CharField(max_length=200, help_text="What the token is for, e.g. RMS sync.")
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in sorted(TOKEN_SCOPES)], widget=forms.CheckboxSelectMultiple
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=3660,
        required=False,
        label="Expires after (days)",
        help_text="Empty: no expiry (revoke it when it is no longer needed).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = _user_choices()  # type: ignore[attr-defined]

    def expires_at(self) -> Any:
        days = self.cleaned_data.get("days")
        return timezone.now() + timedelta(days=days) if days else None
