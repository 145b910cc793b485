"""Job handlers of the review workspace: clips, stills and multi-camera offsets. The
cutting and audio modules are imported when a handler runs, not at Django start-up; the
kinds are spelled here (derive.CLIP_JOB, ...), and `handles` refuses an undeclared one."""

from __future__ import annotations

from overt.jobs.registry import JobContext, handles


@handles("review.clip")
def clip(ctx: JobContext) -> None:
    from . import derive

    derive.make_clip(
        {**ctx.params, "job": ctx.job_id}, progress=lambda f: ctx.progress(f * 0.95, "cutting")
    )


@handles("review.still")
def still(ctx: JobContext) -> None:
    from . import derive

    derive.make_still({**ctx.params, "job": ctx.job_id})


@handles("review.sync-offsets")
def sync_offsets(ctx: JobContext) -> None:
    from . import offsets

    offsets.estimate_incident(ctx.params["incident"], progress=ctx.progress)
