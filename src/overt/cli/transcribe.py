"""`overt transcribe`: speech to text on any audio or video file, with no instance."""

from __future__ import annotations

import json
from pathlib import Path

import click

# Exit statuses, documented in the command's help.
EXIT_BAD_INPUT = 3  # no sound track, or it cannot be decoded
EXIT_MODEL = 4  # the model cannot be loaded (a file missing or altered)


@click.command("transcribe")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the transcript as JSON.")
@click.option(
    "--vtt",
    "vtt_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write WebVTT captions to this file.",
)
@click.option(
    "--model",
    type=click.Choice(["tiny.en", "base"]),
    default=None,
    help="Model to use (default: OVERT_TRANSCRIPT_MODEL).",
)
def transcribe(file: Path, as_json: bool, vtt_out: Path | None, model: str | None) -> None:
    """Transcribe the speech in FILE, offline, with voice activity detection.

    Prints the text, or with --json exactly {"language", "duration", "text", "words":
    [{"word", "start", "end", "probability"}]} (seconds from the start of the file).
    A file with no speech prints an empty transcript and says so on stderr (exit 0).
    Exit 3: FILE is missing, has no sound track, or its sound cannot be decoded.
    Exit 4: the model cannot be loaded (the message names the missing or altered file).
    """
    from overt.transcripts.asr_models import ModelFileError
    from overt.transcripts.captions import webvtt
    from overt.transcripts.speech import configured_engine, transcribe_file

    if not file.is_file():
        raise _failure(f"{file}: no such file", EXIT_BAD_INPUT)
    if vtt_out is not None and not vtt_out.parent.is_dir():  # said before, not after, the work
        raise click.BadParameter(f"{vtt_out.parent}: no such folder", param_hint="--vtt")
    if vtt_out is not None and vtt_out.is_dir():
        raise click.BadParameter(f"{vtt_out}: is a folder, not a file", param_hint="--vtt")
    try:
        engine = configured_engine(model)
    except ModelFileError as exc:
        raise _failure(str(exc), EXIT_MODEL) from exc
    result = transcribe_file(engine, file)
    if result.status in ("no-audio", "unreadable-audio"):
        detail = f" ({'; '.join(result.problems)})" if result.problems else ""
        raise _failure(f"{file}: {result.message}{detail}", EXIT_BAD_INPUT)
    if result.status != "ok":
        click.echo(f"{file}: {result.message}", err=True)
    for problem in result.problems:
        click.echo(f"{file}: {problem}", err=True)
    # The transcript first: a caption file that cannot be written must not lose it.
    if as_json:
        click.echo(json.dumps(result.contract(), ensure_ascii=False))
    else:
        click.echo(result.text)
    if vtt_out is not None:
        captions = webvtt(result.words, note=f"{file.name}, {engine.spec.name}")
        try:
            vtt_out.write_text(captions, "utf-8")
        except OSError as exc:  # not writable, a full disk
            raise click.BadParameter(
                f"{vtt_out}: cannot write ({exc.strerror or exc})", param_hint="--vtt"
            ) from exc


def _failure(message: str, code: int) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = code  # type: ignore[misc]  # click reads it from the instance
    return error
