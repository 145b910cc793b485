"""Job handlers of the review workspace: clips, stills and multi-camera offsets."""

from __future__ import annotations

from overt.jobs.registry import JobContext, handles

from . import derive, offsets


@handles(derive.CLIP_JOB)
def clip(ctx: JobContext) -> None:
    derive.make_clip(
        {**ctx.params, "job": ctx.job_id}, progress=lambda f: ctx.progress(f * 0.95, "cutting")
    )


@handles(derive.STILL_JOB)
def still(ctx: JobContext) -> None:
    derive.make_still({**ctx.params, "job": ctx.job_id})


@handles(offsets.SYNC_JOB)
def sync_offsets(ctx: JobContext) -> None:
    offsets.estimate_incident(ctx.params["incident"], progress=ctx.progress)
