"""Job handlers for cases: the watermarked copy of a shared video (overt.cases.prerender)."""

from __future__ import annotations

from overt.jobs.registry import JobContext, handles

from . import prerender


@handles(prerender.JOB_KIND)
def watermark(ctx: JobContext) -> None:
    prerender.render_copy(int(ctx.params["item"]), int(ctx.params["part"]))
    ctx.progress(1.0)
