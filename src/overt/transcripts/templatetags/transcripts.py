"""The player's captions track and transcript panel, for the recording page."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from overt.evidence.models import Original

from ..models import TranscriptVersion

register = template.Library()


@register.simple_tag
def transcript_track(original: Original) -> SafeString:
    """A <track> of WebVTT captions, on by default, when the clip has a transcript."""
    version = (
        TranscriptVersion.objects.filter(original=original)
        .order_by("-number")
        .only("number", "language")
        .first()
    )
    if version is None:
        return SafeString("")
    return format_html(
        '<track kind="captions" src="{}" srclang="{}" label="{}" default>',
        reverse("transcript-vtt", args=[original.pk]),
        version.language or "en",
        f"Transcript v{version.number}" + (" (machine)" if version.number == 1 else ""),
    )


@register.inclusion_tag("transcripts/_panel.html")
def transcript_panel(clips: list[Any], may_edit: bool = False) -> dict[str, Any]:
    """The panel: one tab per clip with a transcript (the words load when shown)."""
    originals = [c.original for c in clips if getattr(c, "proxy", None)]
    have = set(
        TranscriptVersion.objects.filter(original__in=originals).values_list(
            "original_id", flat=True
        )
    )
    return {
        "clips": [
            {
                "original": o.pk,
                "player_id": c.player_id,
                "number": c.number,
                "words_url": reverse("transcript-words", args=[o.pk]),
                "api_url": reverse("transcript-api", args=[o.pk]),
            }
            for c in clips
            if (o := c.original).pk in have and getattr(c, "proxy", None)
        ],
        "may_edit": may_edit,
    }


@register.inclusion_tag("transcripts/_redaction_words.html", takes_context=True)
def transcript_redaction_words(context: dict[str, Any], project: Any) -> dict[str, Any]:
    """In a redaction project: the transcript's words, to choose some to mute or bleep.
    Shown only to someone who may play the footage (the words are its content)."""
    from overt.access.services import Action, allowed

    request = context.get("request")
    user = getattr(request, "user", None)
    original = project.original
    version = TranscriptVersion.objects.filter(original=original).order_by("-number").first()
    if version is None or not allowed(user, Action.STREAM, original.recording):
        return {"words": [], "project": project}
    return {
        "project": project,
        "version": version,
        "words": [(i, w[0], float(w[1])) for i, w in enumerate(version.words)],
        "csrf_token": context.get("csrf_token"),
    }
