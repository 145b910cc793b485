"""A person's corrections to a transcript: each a new version (a `transcript`
derivative naming who, when, why, the version and hash it corrects and each change,
with a `transcript-correct` custody entry). The machine's text is never overwritten."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from overt import errors
from overt.access.services import Action, User
from overt.custody.services import Actor, Client, Subject, record
from overt.evidence.models import Derivative
from overt.media.catalogue import Provenance

from .models import TranscriptVersion
from .services import (
    GENERATOR,
    TranscriptMissing,
    catalogue_version,
    document,
    original_for,
    versions,
)

MAX_NOTE = 500
MAX_WORD = 100
MAX_CHANGES = 500
# Bidi embeddings, overrides and isolates: they would make a word read as another.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unprintable(text: str) -> bool:
    """Control characters (NUL, ESC) and lone surrogates (valid JSON, not storable text)
    and bidi controls. Whitespace is not: a word's is folded to single spaces."""
    return any(
        c in _BIDI or (unicodedata.category(c) in ("Cc", "Cs") and not c.isspace()) for c in text
    )


def correct(
    user: User,
    original_id: int,
    changes: Mapping[int, str],
    note: str,
    client: Client | None = None,
) -> TranscriptVersion:
    """A new version: the current one with word `i` replaced by `changes[i]` (an empty
    string removes it). Needs EDIT on the recording; the custody entry
    `transcript-correct` names the version corrected and each change."""
    original = original_for(user, original_id, Action.EDIT, client)
    note = note.strip()
    if _unprintable(note):
        raise errors.Invalid("the note holds a control or bidi character", field="note")
    if not note:
        raise errors.Invalid("say why the transcript is corrected", field="note")
    if len(note) > MAX_NOTE:
        raise errors.Invalid(f"the note is longer than {MAX_NOTE} characters", field="note")
    with transaction.atomic():
        current = (
            TranscriptVersion.objects.select_for_update()
            .filter(original=original)
            .order_by("-number")
            .first()
        )
        if current is None:
            raise TranscriptMissing(f"original {original_id} has no transcript yet")
        words = [list(w) for w in current.words]
        applied = _apply(words, changes)
        kept = [w for w in words if str(w[0]).strip()]
        actor = Actor("user", user.get_username())
        machine = versions(original.pk)[0]
        provenance = {k: machine.derivative.facts.get(k, "") for k in ("model", "model_sha256")}
        doc = document(
            original,
            current.number + 1,
            current.status,
            current.language,
            current.duration_s,
            kept,
            provenance={"corrected_by": actor.id, **provenance},
            extra={
                "correction": {
                    "note": note,
                    "corrects_version": current.number,
                    "corrects_sha256": current.derivative.sha256,
                    "changes": applied,
                }
            },
        )

        def entry(derivative: Derivative) -> None:
            record(
                "transcript-correct",
                actor,
                Subject(
                    original.sha256,
                    {
                        "recording": original.recording_id,
                        "original": original.pk,
                        "derivative": derivative.pk,
                    },
                ),
                client=client,
                details={
                    "version": current.number + 1,
                    "corrects_version": current.number,
                    "corrects_sha256": current.derivative.sha256,
                    "sha256": derivative.sha256,
                    "note": note,
                    "changes": applied,
                },
            )

        return catalogue_version(
            original,
            current.number + 1,
            doc,
            actor,
            client,
            Provenance(GENERATOR, f"{GENERATOR}; corrected by {actor.id}"),
            details={"corrects_version": current.number},
            before_entry=entry,
        )


def _apply(words: list[list[Any]], changes: Mapping[int, str]) -> list[dict[str, Any]]:
    if not changes:
        raise errors.Invalid("no words changed", field="changes")
    if len(changes) > MAX_CHANGES:
        raise errors.Invalid(f"more than {MAX_CHANGES} words at once", field="changes")
    applied = []
    for raw_index, raw_text in sorted(changes.items()):
        index = int(raw_index)
        if not 0 <= index < len(words):
            raise errors.Invalid(f"there is no word {index}", field="changes")
        if _unprintable(str(raw_text)):
            raise errors.Invalid(f"word {index} holds a control or bidi character", field="changes")
        text = " ".join(str(raw_text).split())
        if len(text) > MAX_WORD:
            raise errors.Invalid(
                f"word {index} is longer than {MAX_WORD} characters", field="changes"
            )
        applied.append({"index": index, "from": words[index][0], "to": text})
        words[index][0] = text
        words[index][3] = 1.0  # a person heard it
    return applied
