"""`overt redact`: the redaction engine on any video file, with no instance."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from overt.redaction.engine.settings import COVERAGE, FAST, NAMES, X264_PRESETS, bounds

if TYPE_CHECKING:  # the redaction engine is imported only when a command runs
    from overt.redaction.engine.detectors import ManualSpan

# Exit statuses, documented in the command's help.
EXIT_BAD_INPUT = 3  # the file cannot be redacted (missing, unplayable)
EXIT_MODEL = 4  # the detector cannot run (weights missing or altered, no CUDA)


def _span(text: str) -> tuple[float, float]:
    try:
        start, end = (float(v) for v in text.split("-", 1))
    except ValueError:
        raise click.BadParameter(f"{text!r}: expected START-END in seconds, e.g. 12.5-14") from None
    if not 0 <= start < end:
        raise click.BadParameter(
            f"{text!r}: a range must start at or after 0 and end after it starts"
        )
    return start, end


def _box(text: str) -> ManualSpan:
    from overt.redaction.engine.detectors import ManualSpan

    try:
        when, where = text.split(":", 1)
        x1, y1, x2, y2 = (float(v) for v in where.split(","))
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: expected START-END:X1,Y1,X2,Y2 (seconds; 0..1 of the upright picture)"
        ) from None
    start, end = _span(when)
    if not (0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1):
        raise click.BadParameter(f"{text!r}: box corners must be inside 0..1, top-left first")
    return ManualSpan(start, end, (x1, y1, x2, y2))


@click.command("redact")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(path_type=Path),
    help="Redacted MP4 to write (H.264/AAC).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print frames, fps, tracks and the detections file as JSON.",
)
@click.option(
    "--mode",
    type=click.Choice(["blur", "pixelate", "solid"]),
    default="blur",
    show_default=True,
    help="How boxes are masked.",
)
@click.option(
    "--margin",
    type=click.FloatRange(0, 2),
    default=0.3,
    show_default=True,
    help="Grow each box by this fraction of its size on every side.",
)
@click.option(
    "--setting",
    type=click.Choice(NAMES),
    default="coverage",
    show_default=True,
    help="Named setting: coverage finds faces down to about 20 px at 720p; fast is several "
    "times quicker and misses faces under about 40 px. The flags below override single knobs.",
)
@click.option(
    "--stride",
    type=click.IntRange(*bounds("stride")),
    default=None,
    help="Run detection on every Nth frame; tracking covers the frames between "
    f"(the setting's: {COVERAGE.stride}).",
)
@click.option(
    "--detect-width",
    type=click.IntRange(*bounds("detect_width")),
    default=None,
    help="Largest side of the picture the face detector sees "
    f"(coverage {COVERAGE.detect_width}, fast {FAST.detect_width}).",
)
@click.option(
    "--tiles",
    default=None,
    help="Also look at one of COLSxROWS zoomed tiles per sampled frame, for small faces, "
    "or 'none' (coverage 2x2, fast none).",
)
@click.option(
    "--leak-check",
    is_flag=True,
    help="Also look for faces in the encoded output at full resolution (in the same pass) "
    "and list them.",
)
@click.option(
    "--leak-stride",
    type=click.IntRange(*bounds("leak_stride")),
    default=None,
    help="With --leak-check, look at every Nth frame "
    f"(coverage {COVERAGE.leak_stride}, fast {FAST.leak_stride}).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.01, 0.99),
    default=0.2,
    show_default=True,
    help="Score a face needs; weaker detections, down to half of it, count when found "
    "again within 0.3 s.",
)
@click.option(
    "--plates/--no-plates",
    default=False,
    show_default=True,
    help="Also mask licence plates (OpenCV's cascade; a baseline).",
)
@click.option("--no-faces", is_flag=True, help="Do not detect faces (manual boxes only).")
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="Where the face detector runs; auto uses CUDA if present.",
)
@click.option(
    "--box",
    "boxes",
    multiple=True,
    metavar="START-END:X1,Y1,X2,Y2",
    help="Also mask this box (0..1 of the upright picture) between two times. Repeatable.",
)
@click.option(
    "--mute", multiple=True, metavar="START-END", help="Silence audio over a range. Repeatable."
)
@click.option(
    "--bleep", multiple=True, metavar="START-END", help="Replace audio with a tone. Repeatable."
)
@click.option(
    "--max-height",
    type=click.IntRange(0, 4320),
    default=0,
    help="Scale the output down to at most this many lines (0 keeps the size).",
)
@click.option(
    "--preset",
    type=click.Choice(X264_PRESETS),
    default=None,
    help=f"libx264 preset (the setting's: {COVERAGE.preset}).",
)
@click.option(
    "--crf",
    type=click.IntRange(*bounds("crf")),
    default=None,
    help=f"libx264 quality (the setting's: {COVERAGE.crf}).",
)
@click.option(
    "--detections",
    "detections_in",
    type=click.Path(exists=True, path_type=Path),
    help="Render the tracks in this detections file instead of detecting.",
)
def redact(
    file: Path,
    output: Path,
    as_json: bool,
    mode: str,
    margin: float,
    setting: str,
    stride: int | None,
    detect_width: int | None,
    tiles: str | None,
    leak_check: bool,
    leak_stride: int | None,
    threshold: float,
    plates: bool,
    no_faces: bool,
    device: str,
    boxes: tuple[str, ...],
    mute: tuple[str, ...],
    bleep: tuple[str, ...],
    max_height: int,
    preset: str | None,
    crf: int | None,
    detections_in: Path | None,
) -> None:
    """Blur faces (and optionally plates) in FILE and write a redacted copy to OUTPUT.

    Runs the same engine as redaction projects, with no instance and no review: it
    detects on every --stride'th frame, links detections into tracks (gap filling,
    margin), masks them and re-encodes, keeping timestamps, rotation and audio. The
    detections are written beside OUTPUT as NAME.detections.json; edit that file and
    pass it back with --detections to re-render without detecting.

    FILE itself is only read. Exit status: 0 done, 2 bad usage, 3 FILE cannot be
    redacted (missing or unplayable), 4 the detector cannot run (weights missing or
    altered, CUDA asked for but absent), 1 anything else.
    """
    from overt.redaction.engine.adhoc import Options, redact_file
    from overt.redaction.engine.audio_redaction import AudioRange
    from overt.redaction.engine.detectors import DetectorError
    from overt.redaction.engine.inputs import RedactionError
    from overt.redaction.engine.models import ModelError
    from overt.redaction.engine.settings import named

    if output.resolve() == file.resolve():
        raise click.UsageError("the output must not be the input: the source is never overwritten")
    if output.suffix.lower() not in (".mp4", ".m4v"):
        raise click.UsageError("the output is an MP4: give it a .mp4 name")
    ranges = [AudioRange(*_span(s), "mute") for s in mute] + [
        AudioRange(*_span(s), "bleep") for s in bleep
    ]
    given = {
        "stride": stride,
        "detect_width": detect_width,
        "preset": preset,
        "crf": crf,
        "leak_stride": leak_stride,
    }
    overrides: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    if tiles is not None:
        overrides["tiles"] = _tiles(tiles)
    knobs = named(setting, **overrides)
    options = Options.of(
        setting,
        knobs,
        mode=mode,
        margin=margin,
        leak_check=leak_check,
        threshold=threshold,
        faces=not no_faces,
        plates=plates,
        device=device,
        boxes=[_box(b) for b in boxes],
        audio_ranges=ranges,
        max_height=max_height or None,
    )
    progress = None if as_json or not sys.stderr.isatty() else _progress()
    try:
        outcome = redact_file(file, output, options, detections_in=detections_in, progress=progress)
    except RedactionError as exc:
        click.echo(f"overt redact: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except (ModelError, DetectorError) as exc:
        click.echo(f"overt redact: {exc}", err=True)
        sys.exit(EXIT_MODEL)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    if progress is not None:
        click.echo("", err=True)
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2))
        return
    data = outcome.to_json()
    click.echo(
        f"{data['output']}: {data['frames']} frames, {len(data['tracks'])} tracks, "
        f"{data['masked_frames']} frames masked, {data['fps']} fps"
    )
    click.echo(f"detections: {data['detections']}")
    if data["decode_errors"]:
        # Said, not only recorded in the JSON: the copy is shorter than the original.
        click.echo(
            f"overt redact: warning: {data['decode_errors']} packet(s) of the original "
            "could not be decoded (a damaged or cut-off file); their frames are not in "
            "the copy, which holds only what could be decoded and masked",
            err=True,
        )
    if outcome.leak_check is not None:
        found = outcome.leak_check.findings
        click.echo(f"leak check: {len(found)} possible face(s) left in the output")
        for f in found:
            click.echo(
                f"  finding {f.number}: {f.start_s:.2f}-{f.end_s:.2f} s, score {f.score:.2f}"
            )


def _tiles(value: str) -> tuple[int, int] | None:
    if value.strip().lower() == "none":
        return None
    try:
        cols, rows = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(
            "give COLSxROWS (e.g. 2x2) or none", param_hint="--tiles"
        ) from None
    if not (1 <= cols <= 8 and 1 <= rows <= 8):
        raise click.BadParameter("1 to 8 columns and rows", param_hint="--tiles")
    return (cols, rows)


def _progress() -> Callable[[str, float], None]:
    def report(stage: str, fraction: float) -> None:
        click.echo(f"\r{stage:<7} {fraction * 100:5.1f}%", err=True, nl=False)

    return report
