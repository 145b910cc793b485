"""Transcripts of originals: the machine's (a job), a person's corrections, reading them.

Every version is a `transcript` derivative: its JSON document in the evidence store,
catalogued with provenance and a custody entry in one transaction (media.catalogue).
The machine's version names the model and its hash and the library versions; a
correction names who, when, why and the version it corrects, and is a new version:
nothing is overwritten. The search index and keyword-flag bookmarks follow in the same
transaction.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from overt import errors
from overt.access.services import Action, User, check, visible_recordings
from overt.conf import get_settings
from overt.custody.services import Actor, Client, Subject, record
from overt.evidence.models import Derivative, Marker, Original
from overt.evidence.store import get_store
from overt.media.catalogue import Provenance, Requester, catalogue_derivative

from . import words as wordlib
from .models import SpeechIndex, TranscriptVersion
from .speech import STATUSES, Engine, Transcription, configured_engine, transcribe_file

SCHEMA = "overt.transcript/1"
GENERATOR = "overt.transcripts"
SYSTEM = Actor.system("transcripts")
FLAG_PREFIX = "flagged for review: "


class TranscriptMissing(errors.NotFound):
    """No transcript (yet) for this original."""


# --- the machine's transcript --------------------------------------------------------------


def transcribe_original(
    original_id: int,
    progress: Callable[[float], None] | None = None,
    engine: Engine | None = None,
) -> TranscriptVersion:
    """Transcribe a stored original and catalogue version 1. Idempotent: a second run (a
    retried job) returns the version already made."""
    original = Original.objects.select_related("recording").get(pk=original_id)
    existing = TranscriptVersion.objects.filter(original=original, number=1).first()
    if existing is not None:
        return existing
    engine = engine or configured_engine()
    with get_store().local_copy(original.sha256) as source:
        result = transcribe_file(engine, source, progress)
    return save_machine_transcript(original, result, engine.provenance())


def save_machine_transcript(
    original: Original, result: Transcription, provenance: Mapping[str, Any]
) -> TranscriptVersion:
    """Catalogue `result` as the original's version 1 (the machine's), with its flags.
    `provenance` is the engine's (speech.Engine.provenance). Idempotent."""
    doc = document(
        original,
        1,
        result.status,
        result.language,
        result.duration,
        [_word_row(w) for w in result.words],
        provenance=provenance,
        extra={
            "segments": [asdict(s) for s in result.segments],
            "language_probability": round(result.language_probability, 4),
            "problems": result.problems,
        },
    )
    version_text = (
        f"{GENERATOR}; model {provenance.get('model')} "
        f"sha256:{str(provenance.get('model_sha256', ''))[:16]}; "
        f"faster-whisper {provenance.get('faster_whisper')}; "
        f"ctranslate2 {provenance.get('ctranslate2')}"
    )
    try:
        with transaction.atomic():
            version = catalogue_version(
                original,
                1,
                doc,
                SYSTEM,
                None,
                Provenance(GENERATOR, version_text),
                details={
                    "status": result.status,
                    "model": provenance.get("model", ""),
                    "model_sha256": provenance.get("model_sha256", ""),
                },
            )
            _flag(version, original, get_settings().transcript_flag_phrases)
    except IntegrityError:  # a concurrent attempt won; its version stands
        return TranscriptVersion.objects.get(original=original, number=1)
    return version


def _word_row(word: Any) -> list[Any]:
    return [word.word, round(word.start, 3), round(word.end, 3), round(word.probability, 4)]


def document(
    original: Original,
    number: int,
    status: str,
    language: str,
    duration: float,
    words: list[list[Any]],
    *,
    provenance: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    text = " ".join(str(w[0]) for w in words)
    return {
        "schema": SCHEMA,
        "original": {"id": original.pk, "sha256": original.sha256},
        "version": number,
        "status": status,
        "message": STATUSES.get(status, status),
        "language": language,
        "duration": round(duration, 3),
        "text": text,
        "words": [{"word": w[0], "start": w[1], "end": w[2], "probability": w[3]} for w in words],
        "provenance": dict(provenance),
        **(extra or {}),
    }


def catalogue_version(
    original: Original,
    number: int,
    doc: dict[str, Any],
    actor: Actor,
    client: Client | None,
    provenance: Provenance,
    *,
    details: Mapping[str, Any],
    before_entry: Callable[[Derivative], None] | None = None,
) -> TranscriptVersion:
    """Store the document, catalogue it as a derivative, add the version and index it."""
    words = [[w["word"], w["start"], w["end"], w["probability"]] for w in doc["words"]]
    with tempfile.TemporaryDirectory(prefix="overt-transcript-") as tmp:
        path = Path(tmp) / "transcript.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, sort_keys=True), "utf-8")
        versions: list[TranscriptVersion] = []

        def add_version(derivative: Derivative) -> None:
            versions.append(
                TranscriptVersion.objects.create(
                    original=original,
                    number=number,
                    derivative=derivative,
                    status=doc["status"],
                    language=doc["language"],
                    duration_s=doc["duration"],
                    text=doc["text"],
                    words=words,
                    author="" if actor.kind == "system" else actor.id,
                    note=doc.get("correction", {}).get("note", ""),
                )
            )
            if before_entry is not None:
                before_entry(derivative)

        catalogue_derivative(
            original,
            Derivative.Kind.TRANSCRIPT,
            get_store().put_file(path),
            content_type="application/json",
            provenance=provenance,
            facts={k: doc[k] for k in ("version", "status", "language", "duration")}
            | {"words": len(words), "model": doc["provenance"].get("model", "")}
            | {"model_sha256": doc["provenance"].get("model_sha256", "")},
            requester=Requester(actor, {"original": original.pk}, client),
            details={"version": number, **details},
            before_entry=add_version,
        )
    version = versions[0]
    _index(version)
    return version


def _index(version: TranscriptVersion) -> None:
    SpeechIndex.objects.update_or_create(
        original_id=version.original_id,
        defaults={
            "recording_id": version.original.recording_id,
            "version": version,
            "tokens": " ".join(wordlib.tokens(version.text)),
        },
    )


def _flag(version: TranscriptVersion, original: Original, phrases: list[str]) -> list[Marker]:
    """A bookmark "flagged for review: PHRASE" at each first hearing of each phrase."""
    if original.started_at is None or not phrases:
        return []
    flat, owner = flat_tokens(version.words)
    made = []
    for phrase in phrases:
        term = wordlib.Term(tuple(wordlib.tokens(phrase)))
        if not term.words:
            continue
        at = wordlib.find(flat, term)
        if at < 0:
            continue
        second = float(version.words[owner[at]][1])
        marker = Marker.objects.create(
            recording=original.recording,
            at=(original.started_at + timedelta(seconds=second)).astimezone(UTC),
            text=f"{FLAG_PREFIX}{phrase}"[:500],
            created_by="system:transcripts",
        )
        record(
            "marker-add",
            SYSTEM,
            Subject(original.sha256, {"recording": original.recording_id, "original": original.pk}),
            details={
                "recording": original.recording_id,
                "marker": marker.pk,
                "at": marker.at.isoformat().replace("+00:00", "Z"),
                "text": marker.text,
                "transcript_version": version.number,
                "offset_s": second,
            },
        )
        made.append(marker)
    return made


def flat_tokens(words: list[list[Any]]) -> tuple[list[str], list[int]]:
    """The words' search tokens in order, and for each token the index of its word."""
    flat: list[str] = []
    owner: list[int] = []
    for index, row in enumerate(words):
        for token in wordlib.tokens(str(row[0])):
            flat.append(token)
            owner.append(index)
    return flat, owner


# --- reading -------------------------------------------------------------------------------


def original_for(user: User, original_id: int, action: Action, client: Client | None) -> Original:
    original = (
        Original.objects.select_related("recording")
        .filter(pk=original_id, recording__in=visible_recordings(user))
        .first()
    )
    if original is None:  # missing, or not the asker's to know of: the same answer
        raise errors.NotFound(f"no original {original_id}")
    check(user, action, original.recording, client=client)  # NotFound/AccessDenied, logged
    return original


def current(original_id: int) -> TranscriptVersion | None:
    return (
        TranscriptVersion.objects.filter(original_id=original_id)
        .select_related("derivative", "original")
        .order_by("-number")
        .first()
    )


def versions(original_id: int) -> list[TranscriptVersion]:
    return list(
        TranscriptVersion.objects.filter(original_id=original_id)
        .select_related("derivative")
        .order_by("number")
    )


def read(user: User, original_id: int, client: Client | None = None) -> TranscriptVersion:
    """The current version, for someone who may play the footage (its words are as
    telling as its pictures): STREAM on the recording."""
    original_for(user, original_id, Action.STREAM, client)
    version = current(original_id)
    if version is None:
        raise TranscriptMissing(f"original {original_id} has no transcript yet")
    return version


@dataclass(frozen=True, slots=True)
class TimedWord:
    word: str
    start: float
    end: float
    probability: float


def timed_words(version: TranscriptVersion) -> list[TimedWord]:
    return [TimedWord(str(w[0]), float(w[1]), float(w[2]), float(w[3])) for w in version.words]


def describe(version: TranscriptVersion) -> dict[str, Any]:
    """The current version for the player's panel and the API: words, status, history."""
    history = versions(version.original_id)
    return {
        "original": version.original_id,
        "version": version.number,
        "status": version.status,
        "message": STATUSES.get(version.status, version.status),
        "language": version.language,
        "duration": version.duration_s,
        "sha256": version.derivative.sha256,
        "words": [
            {"word": w[0], "start": w[1], "end": w[2], "probability": w[3]} for w in version.words
        ],
        "versions": [
            {
                "version": v.number,
                "author": v.author or "machine",
                "created_at": v.created_at.isoformat(),
                "note": v.note,
                "sha256": v.derivative.sha256,
            }
            for v in history
        ],
    }
