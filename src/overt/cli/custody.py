"""`overt custody ...` and `overt verify`: the chain-of-custody log from the command line.

Exit status for all of them: 0 on success; 1 when the work could not be done (the reason
is on stderr) or, for `overt verify`, when any problem was found; 2 for a bad argument,
such as an entry number the log does not have.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .bootstrap import setup

T = TypeVar("T")


def _custody_errors() -> tuple[type[Exception], type[Exception]]:
    from overt.custody.errors import CustodyError, ProofError

    return CustodyError, ProofError


def _emit(data: object, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else text)


def _run(work: Callable[[], T]) -> T:
    """Turn custody errors into clear messages and exit codes."""
    custody_error, proof_error = _custody_errors()
    try:
        return work()
    except proof_error as exc:
        raise click.BadParameter(str(exc)) from exc
    except custody_error as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def custody() -> None:
    """The tamper-evident custody log: checkpoints, proofs, reports."""


@custody.command("checkpoint")
@click.option("--json", "as_json", is_flag=True, help="Print size, root and note as JSON.")
def checkpoint_cmd(as_json: bool) -> None:
    """Sign a checkpoint of the log as it is now and print the signed note.

    If the log has not grown since the last checkpoint, that one is printed again.
    """
    setup()
    from overt.custody.checkpoints import issue_checkpoint

    cp = _run(issue_checkpoint)
    if as_json:
        _emit({"size": cp.size, "root": cp.root, "note": cp.note}, True, "")
    else:
        click.echo(cp.note, nl=False)


@custody.command("pubkey")
def pubkey_cmd() -> None:
    """Print the verifier key (C2SP note verifier-key form) that checks checkpoints."""
    setup()
    from overt.custody.keys import verifier_key_text

    click.echo(_run(verifier_key_text))


@custody.command("entries")
@click.option("--object", "sha256", required=True, help="An original's SHA-256.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def entries_cmd(sha256: str, as_json: bool) -> None:
    """List the log entries about one original, with their leaf indices."""
    setup()
    from overt.custody.models import CustodyEntry
    from overt.custody.proofs import entry_json

    sha256 = sha256.lower()
    found = CustodyEntry.objects.filter(object_sha256=sha256).order_by("index")
    rows = [entry_json(e) for e in found]
    if as_json:
        _emit({"object": sha256, "entries": rows}, True, "")
        return
    if not rows:
        click.echo(f"no custody entries for {sha256}")
    for row in rows:
        click.echo(
            f"{row['leaf_index']:>8}  {row['recorded_at']}  {row['action']:<18} {row['actor']}"
        )


def _proof_text(data: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in data.items() if k != "checkpoint")


@custody.command("prove")
@click.option("--entry", "index", type=click.IntRange(min=0), required=True, help="Leaf index.")
@click.option("--size", type=click.IntRange(min=0), help="Tree size (default: the whole log).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def prove_cmd(index: int, size: int | None, as_json: bool) -> None:
    """Print an inclusion proof that entry N is in the tree of SIZE entries.

    JSON: {"leaf_index", "tree_size", "leaf_hash", "hashes": [hex...], "root", "checkpoint"};
    "checkpoint" is the signed checkpoint of that size if one was issued, else null.
    """
    setup()
    from overt.custody.proofs import inclusion_json

    data = _run(lambda: inclusion_json(index, size))
    _emit(data, as_json, _proof_text(data))


@custody.command("consistency")
@click.argument("old", type=click.IntRange(min=0))
@click.argument("new", type=click.IntRange(min=0))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def consistency_cmd(old: int, new: int, as_json: bool) -> None:
    """Print a proof that the log at OLD entries is a prefix of the log at NEW entries.

    JSON: {"old_size", "new_size", "old_root", "new_root", "hashes": [hex...]}.
    """
    setup()
    from overt.custody.proofs import consistency_json

    data = _run(lambda: consistency_json(old, new))
    _emit(data, as_json, _proof_text(data))


@custody.command("report")
@click.argument("recording_id", type=int)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder."
)
@click.option("--justification", default="", help="Why the report is made (logged).")
def report_cmd(recording_id: int, out: Path, justification: str) -> None:
    """Write the custody report of a recording: report.json, .html, .pdf and overt_verify.py.

    Making it is logged as an `export` of the recording's originals.
    """
    setup()
    import getpass

    from overt.custody.report import write_report
    from overt.custody.services import Actor

    actor = Actor.system(f"cli:{getpass.getuser()}")
    files = _run(
        lambda: write_report(recording_id, out, actor=actor, justification=justification)
    )
    for path in files.paths():
        click.echo(str(path))
    if files.pdf_problem:
        click.echo(f"overt custody report: no PDF: {files.pdf_problem}", err=True)


@custody.command("publish")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def publish_cmd(folder: Path) -> None:
    """Sign a checkpoint and write all checkpoints to FOLDER for a witness to mirror.

    Writes FOLDER/checkpoint (the latest), FOLDER/checkpoints/<size> (each one) and
    FOLDER/verifier-key. Safe to run repeatedly, e.g. from cron before an rsync.
    """
    setup()
    from overt.custody.checkpoints import publish

    published = _run(lambda: publish(folder))
    click.echo(f"published checkpoint at size {published.latest.size} to {folder}")


@custody.command("schedule")
def schedule_cmd() -> None:
    """Start the scheduled checkpoint and scrub jobs (run by `overt worker`). Idempotent."""
    setup()
    from overt.custody.jobs import CHECKPOINT_JOB, SCRUB_JOB, ensure_scheduled

    for kind in (CHECKPOINT_JOB, SCRUB_JOB):
        job = ensure_scheduled(kind)
        due = job.params.get("due", "now")
        click.echo(f"{kind}: job {job.pk} due {due}")


@click.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print {ok, problems, summary} as JSON.")
@click.option("--log-only", is_flag=True, help="Check the log and checkpoints, not the objects.")
def verify(as_json: bool, log_only: bool) -> None:
    """Re-hash every original and derivative, recompute the custody log, check checkpoints.

    Prints each problem with where it is (object id and store path, entry number,
    checkpoint size). Exit status 1 if any problem was found. The run is recorded as a
    `verify` entry in the custody log.
    """
    setup()
    from overt.custody.verify import verify_instance

    result, _ = _run(lambda: verify_instance(log_only=log_only))
    if as_json:
        _emit(result.to_json(), True, "")
    else:
        summary = result.summary()
        checked = "log only" if log_only else (
            f"{summary['originals']} originals, {summary['derivatives']} derivatives"
        )
        click.echo(
            f"checked {summary['entries']} entries, {summary['checkpoints']} checkpoints, {checked}"
        )
        for problem in result.problems:
            click.echo(f"PROBLEM {problem.kind}: {problem.where}: {problem.detail}")
        failed = f"FAILED: {len(result.problems)} problem(s)"
        click.echo("OK: no problems found" if result.ok else failed)
    sys.exit(0 if result.ok else 1)
