"""Forms for the review pages."""

from __future__ import annotations

from django import forms

from overt.access.justify import MAX_TEXT_LENGTH, categories


class JustificationForm(forms.Form):
    category = forms.ChoiceField(
        label="Reason",
        choices=lambda: [("", "Choose a reason…"), *((c, c) for c in categories())],
        error_messages={"required": "Choose the reason that fits best."},
    )
    text = forms.CharField(
        label="Justification",
        help_text="Say why you need to watch this footage; this goes into the custody log.",
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why you need to watch this footage."},
    )
