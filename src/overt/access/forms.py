"""Forms for signing in, the second factor, break-glass and post-incident release."""

from __future__ import annotations

from django import forms


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
