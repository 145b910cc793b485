"""Job handlers for redaction: detection and render, with progress."""

from __future__ import annotations

from overt.jobs.registry import JobContext, handles

from . import rendering, services


@handles("redaction.detect")
def detect(ctx: JobContext) -> None:
    services.run_detection(ctx.params["project"], progress=ctx.progress)


@handles("redaction.render")
def render(ctx: JobContext) -> None:
    rendering.run_render(ctx.params["render"], progress=ctx.progress)
