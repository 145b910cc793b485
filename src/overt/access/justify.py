"""Why someone takes footage: a category from the configured list plus free text.

Viewing, streaming, downloading and exporting all ask for one first, and the custody entry
of the action carries it as ``"<category>: <text>"``. The list is a setting
(OVERT_JUSTIFICATION_CATEGORIES), so what the log can say is the force's own vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

from overt import errors
from overt.conf import get_settings

MAX_TEXT_LENGTH = 2000


class JustificationError(errors.Invalid, ValueError):
    """The reason given is missing, unknown or too long; the message says which."""


@dataclass(frozen=True, slots=True)
class Justification:
    category: str
    text: str

    def __str__(self) -> str:
        return f"{self.category}: {self.text}"


def categories() -> tuple[str, ...]:
    return tuple(get_settings().justification_categories)


def justification(category: object, text: object) -> Justification:
    """Check a reason as given by a form or a JSON body; raise JustificationError if bad."""
    offered = categories()
    if not isinstance(category, str) or category not in offered:
        raise JustificationError(
            f"choose a reason category: one of {', '.join(repr(c) for c in offered)}"
        )
    if not isinstance(text, str) or not text.strip():
        raise JustificationError("a justification needs a few words of explanation")
    text = text.strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise JustificationError(f"a justification is at most {MAX_TEXT_LENGTH} characters")
    return Justification(category, text)
