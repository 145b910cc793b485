"""The transcript job: one per playable original, on whichever job engine runs."""

from __future__ import annotations

from overt.jobs.registry import JobContext, handles

from . import services

TRANSCRIBE_JOB = "transcripts.transcribe"


@handles(TRANSCRIBE_JOB)
def transcribe(ctx: JobContext) -> None:
    ctx.progress(0.0, "loading the speech model")
    services.transcribe_original(
        ctx.params["original"], progress=lambda f: ctx.progress(f * 0.97, "transcribing")
    )
