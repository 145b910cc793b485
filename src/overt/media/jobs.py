"""Job handlers for derivatives; they run on whichever worker engine is configured.

The media modules (PyAV, NumPy) are imported inside each handler: every process that
starts Django imports this module to register the handlers, and most never run one."""

from __future__ import annotations

from pathlib import Path

from overt.conf import get_settings
from overt.evidence.models import Derivative
from overt.jobs.registry import JobContext, handles


@handles("media.proxy")
def proxy(ctx: JobContext) -> None:
    from . import derivatives
    from .pipeline import make_derivative

    max_height = get_settings().proxy_max_height

    def build(src: Path, dst: Path) -> object:
        return derivatives.make_proxy(
            src, dst, max_height=max_height, progress=lambda f: ctx.progress(f * 0.95, "encoding")
        )

    make_derivative(ctx.params["original"], Derivative.Kind.PROXY, build)


@handles("media.poster")
def poster(ctx: JobContext) -> None:
    from . import derivatives
    from .pipeline import make_derivative

    make_derivative(ctx.params["original"], Derivative.Kind.POSTER, derivatives.make_poster)


@handles("media.sprite")
def sprite(ctx: JobContext) -> None:
    from . import derivatives
    from .pipeline import make_derivative

    make_derivative(ctx.params["original"], Derivative.Kind.SPRITE, derivatives.make_sprite)


@handles("media.waveform")
def waveform(ctx: JobContext) -> None:
    from . import waveform as peaks
    from .pipeline import make_derivative

    make_derivative(ctx.params["original"], Derivative.Kind.WAVEFORM, peaks.make_waveform)
