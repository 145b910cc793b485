"""overt deployments / overt oversight: import deployments, judge activation compliance,
publish the transparency report. Complaints and supervisor review: cli/oversight_cases.py."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from .bootstrap import setup
from .retention.common import AS_HELP, actor_for


@click.group()
def deployments() -> None:
    """Deployments (CAD incidents, firearms authorisations, stop and search, use of force)."""


@deployments.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", help=AS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def deployments_import(file: Path, username: str | None, as_json: bool) -> None:
    """Import deployments from FILE: JSON (a list, the documented contract) or CSV (one
    row per attending officer, docs/oversight.md). All or nothing: a bad row is named with
    its field and nothing is imported (exit 2). Importing the same reference again is a
    no-op; changed content corrects it."""
    setup()
    from overt.oversight.deployments import (
        MAX_IMPORT_BYTES,
        ImportRefused,
        import_deployments,
        too_large,
    )

    if file.stat().st_size > MAX_IMPORT_BYTES:  # refused before it is read into memory
        raise too_large(file.stat().st_size)
    try:
        result = import_deployments(file.read_bytes(), name=file.name, actor=actor_for(username))
    except ImportRefused as exc:
        problems = exc.extra.get("errors", [])
        for p in problems:
            click.echo(f"{p['row']}, {p['field'] or '(the row)'}: {p['detail']}", err=True)
        click.echo(f"Error: {len(problems)} problem(s); nothing was imported", err=True)
        raise SystemExit(exc.exit_code) from None
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{len(result.created)} deployment(s) created, {len(result.updated)} corrected, "
        f"{len(result.unchanged)} unchanged; {result.attendances} attendance(s)"
    )
    for w in result.warnings:
        who = f" {w['officer']}" if w["officer"] else ""
        click.echo(f"warning: {w['reference']}{who}: {w['kind']}: {w['detail']}")


@click.group()
def oversight() -> None:
    """Oversight: activation compliance, complaints, supervisor review, public report."""


@oversight.command("compliance")
@click.option(
    "--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day."
)
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
@click.option("--borough", help="Only this borough.")
@click.option("--json", "as_json", is_flag=True, help="Print {attendances: [...], rates: {...}}.")
def oversight_compliance(start: object, end: object, borough: str | None, as_json: bool) -> None:
    """Judge every attendance that began from --from to --to (days in OVERT_TIME_ZONE,
    inclusive) and store the verdicts for the dashboards. With --json, one row per
    attendance: deployment, officer, status (recorded, late, early-stop, gaps, no-footage),
    activation_delay_s, early_stop_s, recordings; and the rates per borough, team, month."""
    setup()
    from overt.oversight.compliance import run

    outcome = run(_day(start), _day(end), borough)
    if as_json:
        click.echo(json.dumps(outcome.as_json(), indent=2, ensure_ascii=False))
        return
    for j in outcome.judged:
        delay = "" if j.activation_delay_s is None else f" delay {j.activation_delay_s:g}s"
        early = "" if not j.early_stop_s else f" early-stop {j.early_stop_s:g}s"
        click.echo(f"{j.deployment}  {j.officer}  {j.status}{delay}{early}")
    for by, groups in outcome.rates.items():
        click.echo(f"\nby {by}:")
        for g in groups:
            rate = g["compliance_rate"]
            shown = "n/a" if rate is None else f"{rate:.1%}"
            click.echo(
                f"  {g[by]}: {g['attendances']} attendances, {shown} recorded from the outset, "
                f"{g['late']} late, {g['early_stop']} stopped early, {g['gaps']} with gaps, "
                f"{g['no_footage']} without footage"
            )


@oversight.command("report")
@click.option("--month", required=True, help="The month, e.g. 2026-11.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--as", "username", help=AS_HELP)
def oversight_report(month: str, out: Path, username: str | None) -> None:
    """Publish the month's public transparency report into --out: report.html, report.pdf,
    report.csv, report.json (aggregates by borough, small counts suppressed, no names),
    with the signed checkpoint and inclusion proof of its custody entry and the offline
    verifier (overt_verify_report.py)."""
    setup()
    from overt.oversight.report import publish

    files = publish(month, out, actor=actor_for(username))
    for path in files.paths:
        click.echo(str(path))
    if files.pdf_problem:
        click.echo(f"warning: no PDF: {files.pdf_problem}", err=True)
    click.echo(f"report SHA-256 {files.sha256} logged at custody entry {files.leaf_index}")


def _day(value: object) -> date:
    from datetime import datetime

    assert isinstance(value, datetime)  # click.DateTime gives one
    return value.date()
