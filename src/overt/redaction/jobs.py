"""Job handlers for redaction: detection and render, with progress. The engine (OpenCV,
ONNX, PyAV) is imported when a handler runs, not when Django registers the handlers."""

from __future__ import annotations

from overt.jobs.registry import JobContext, handles


@handles("redaction.detect")
def detect(ctx: JobContext) -> None:
    from . import services

    services.run_detection(ctx.params["project"], progress=ctx.progress)


@handles("redaction.render")
def render(ctx: JobContext) -> None:
    from . import rendering

    rendering.run_render(ctx.params["render"], progress=ctx.progress)
