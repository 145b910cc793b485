"""The transcript job: one per playable original, on whichever job engine runs."""

from __future__ import annotations

from overt.jobs.registry import JobContext, handles

TRANSCRIBE_JOB = "transcripts.transcribe"


@handles(TRANSCRIBE_JOB)
def transcribe(ctx: JobContext) -> None:
    from . import services  # the speech engine is imported on a run, not at start-up

    ctx.progress(0.0, "loading the speech model")
    services.transcribe_original(
        ctx.params["original"], progress=lambda f: ctx.progress(f * 0.97, "transcribing")
    )
