"""`overt ingest` and `overt watch`: footage in from files and dock folders."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from .bootstrap import setup


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--officer",
    "officer_number",
    help="Officer's warrant or collar number. Default: the sidecar's, else whoever the "
    "camera was assigned to when the clip was recorded (`overt device assign`).",
)
@click.option("--device", "device_serial", help="Camera serial number.")
@click.option("--sidecar", type=click.Path(path_type=Path), help="Sidecar JSON (overt.sidecar/1).")
@click.option("--sha256", "declared", help="Expected SHA-256 of the (single) file.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of results.")
def ingest(
    files: tuple[Path, ...],
    officer_number: str | None,
    device_serial: str | None,
    sidecar: Path | None,
    declared: str | None,
    as_json: bool,
) -> None:
    """Store camera FILES as evidence and catalogue them.

    Each FILE must be a file or a pipe; for a folder, use `overt watch FOLDER --once`.
    Exit status: 0 when every file was stored or already present, 1 when any was
    refused (each refusal is explained on stderr; nothing of it is catalogued).
    """
    setup()
    from overt.evidence.store import StoreError
    from overt.ingest.services import IngestError, ingest_file
    from overt.ingest.sidecar import SidecarError, read_sidecar

    if declared and len(files) > 1:
        raise click.UsageError("--sha256 applies to a single file")
    try:
        meta = read_sidecar(sidecar) if sidecar else None
    except SidecarError as exc:
        raise click.ClickException(str(exc)) from exc

    results, failed = [], 0
    for path in files:
        try:
            with _byte_progress(path, quiet=as_json) as progress:
                result = ingest_file(
                    path,
                    officer_number=officer_number,
                    device_serial=device_serial,
                    sidecar=meta,
                    declared_sha256=declared,
                    progress=progress,
                )
        except (IngestError, StoreError, ValueError) as exc:
            failed += 1
            click.echo(f"overt ingest: {path}: {exc}", err=True)
            continue
        except Exception as exc:  # never a traceback; the other files still go in
            failed += 1
            click.echo(
                f"overt ingest: {path}: not catalogued, unexpected {type(exc).__name__}: {exc}",
                err=True,
            )
            continue
        results.append(result)
        if not as_json:
            flag = "" if result.playable else f"  (NOT PLAYABLE: {result.problem})"
            click.echo(f"{result.status:<9} {result.sha256}  {result.size:>12}  {path}{flag}")
    if as_json:
        click.echo(json.dumps([r.to_json() for r in results], indent=2))
    sys.exit(1 if failed else 0)


PROGRESS_MIN_BYTES = 64 << 20  # small files finish before a bar is worth drawing


@contextmanager
def _byte_progress(path: Path, *, quiet: bool) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr for large files, when stderr is a terminal."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if quiet or size < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(f"hashing and storing {path.name}", total=size)
        yield lambda done: bar.update(task, completed=done)


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--officer",
    "officer_number",
    help="Officer for files without a sidecar. Default: whoever the camera was assigned "
    "to when the clip was recorded.",
)
@click.option("--device", "device_serial", help="Camera for files without a sidecar.")
@click.option("--once", is_flag=True, help="Take what is settled now, then exit.")
def watch(folder: Path, officer_number: str | None, device_serial: str | None, once: bool) -> None:
    """Ingest files dropped into a dock FOLDER once they stop changing.

    A file's sidecar, if any, is FILE.json beside it. After a durable ingest the file
    moves to FOLDER/.ingested/ (or is deleted, per OVERT_WATCH_DELETE_SOURCE). A file
    whose sidecar or bytes are at fault moves with its sidecar to FOLDER/.quarantine/,
    beside a FILE.reason.txt; the watch goes on.
    """
    setup()
    from overt.ingest.services import IngestError
    from overt.ingest.watch import DockWatcher

    watcher = DockWatcher(folder, officer_number=officer_number, device_serial=device_serial)
    try:
        watcher.candidates()  # the folder must exist when the watch starts
        if once:
            watcher.settle_and_scan()
            return
    except IngestError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"watching {folder.resolve()} (Ctrl+C to stop)")
    try:
        watcher.run_forever()
    except KeyboardInterrupt:
        pass
