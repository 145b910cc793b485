"""Job kinds and their handlers. Every kind must have a handler, checked at startup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

# The kinds overt runs. Adding one here without a handler stops the app from starting.
JOB_KINDS: dict[str, str] = {
    "media.proxy": "Make the browser proxy (H.264/AAC fragmented MP4)",
    "media.poster": "Make the poster frame",
    "media.sprite": "Make the scrub sprite sheet",
    "media.waveform": "Make the waveform peaks",
    "custody.checkpoint": "Sign a custody log checkpoint, then schedule the next",
    "custody.scrub": "Re-verify store, custody log and checkpoints, then schedule the next",
    "uploads.expire": "Expire abandoned uploads, finish interrupted ones, schedule the next",
    "redaction.detect": "Detect and track faces and plates in a redaction project",
    "redaction.render": "Render a redaction project as a signed, redacted copy",
    "retention.daily": "Purge, recycle and list due deletions, then schedule the next day's run",
    "review.clip": "Cut a frame-accurate clip from an original (copying between the cuts)",
    "review.still": "Save one picture of an original as a PNG still",
    "review.sync-offsets": "Estimate the clock offsets of an incident's cameras from their audio",
    "cases.watermark": "Render a shared video with its recipient's watermark burned in",
    "transcripts.transcribe": "Transcribe an original's speech (words, times, confidences)",
}


@dataclass
class JobContext:
    job_id: int
    kind: str
    params: dict[str, Any]
    attempt: int
    report: Callable[[float, str], None] = field(repr=False)

    def progress(self, fraction: float, message: str = "") -> None:
        self.report(max(0.0, min(1.0, fraction)), message)


Handler = Callable[[JobContext], None]
_HANDLERS: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    if kind not in JOB_KINDS:
        raise ImproperlyConfigured(f"handler for undeclared job kind {kind!r}")

    def register(func: Handler) -> Handler:
        if kind in _HANDLERS and _HANDLERS[kind] is not func:
            raise ImproperlyConfigured(f"two handlers for job kind {kind!r}")
        _HANDLERS[kind] = func
        return func

    return register


def handler_for(kind: str) -> Handler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise ImproperlyConfigured(f"no handler for job kind {kind!r}") from None


def missing_handlers() -> list[str]:
    return sorted(set(JOB_KINDS) - set(_HANDLERS))


def check_handlers() -> None:
    missing = missing_handlers()
    if missing:
        raise ImproperlyConfigured("job kinds without a handler: " + ", ".join(missing))
