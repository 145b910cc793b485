"""Job handlers for cases: the watermarked copy of a shared video (overt.cases.prerender)."""

from __future__ import annotations

from overt.jobs.registry import JobContext, handles


@handles("cases.watermark")  # prerender.JOB_KIND; prerender (PyAV) is imported on a run only
def watermark(ctx: JobContext) -> None:
    from . import prerender

    prerender.render_copy(int(ctx.params["item"]), int(ctx.params["part"]))
    ctx.progress(1.0)
