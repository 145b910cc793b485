"""`overt redaction`: a redaction project's leak findings from the shell, through the same
service as the project page (overt.redaction.leaks): list them, decide on one, list
every moment where something is unmasked. Decisions are custody entries and go into
the copy's manifest, as on the page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .bootstrap import setup
from .retention.common import emit, user_named

if TYPE_CHECKING:
    from overt.redaction.models import RedactionProject, Render


def _project(project_id: int) -> RedactionProject:
    from overt.redaction.models import RedactionProject

    project = (
        RedactionProject.objects.select_related("original__recording").filter(pk=project_id).first()
    )
    if project is None:
        raise click.BadParameter(f"no redaction project {project_id}", param_hint="PROJECT")
    return project


def _render(project: RedactionProject, number: int | None) -> Render:
    renders = project.renders.filter(derivative__isnull=False)
    render = (
        renders.filter(number=number).first()
        if number is not None
        else renders.order_by("-number").first()
    )
    if render is None:
        which = f"copy {number}" if number is not None else "rendered copy"
        raise click.BadParameter(f"project {project.pk} has no {which}", param_hint="--render")
    return render


def _allow(username: str, project: RedactionProject) -> None:
    """The user must be one who may redact this recording, as on the page."""
    from overt.access.services import AccessDenied, Action, check

    user = user_named(username)
    try:
        check(user, Action.REDACT, project.original.recording)
    except AccessDenied as exc:
        raise click.ClickException(f"{username} may not redact this recording: {exc}") from exc


@click.group("redaction")
def redaction() -> None:
    """A redaction project's leak check: findings, decisions, unmasked moments."""


@redaction.command("findings")
@click.argument("project_id", metavar="PROJECT", type=int)
@click.option("--render", "number", type=int, help="Which copy (default: the newest).")
@click.option("--as", "username", required=True, help="Who looks (must be allowed to redact).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def findings(project_id: int, number: int | None, username: str, as_json: bool) -> None:
    """List the leak check's findings on a rendered copy, and whether it may be released.

    Exit 1 when the copy is not releasable (a finding not cleared, or no check)."""
    setup()
    from overt.redaction import leaks

    project = _project(project_id)
    _allow(username, project)
    render = _render(project, number)
    data = leaks.findings_report(render)  # the API's answer too
    rows, blockers = data["findings"], data["blockers"]

    def text() -> None:
        click.echo(
            f"project {project.pk}, copy {render.number}: "
            + ("releasable" if not blockers else "NOT releasable")
        )
        for row in rows:
            click.echo(
                f"  finding {row['number']}: {row['start_s']:.2f}-{row['end_s']:.2f} s, "
                f"score {row['score']:.2f}, {row['frames']} frames, {row['status']}"
                + (f" (by {row['decided_by']})" if row["decided_by"] else "")
            )
        for blocker in blockers:
            click.echo(f"  blocked: {blocker}")

    emit(data, as_json, text)
    if blockers:
        raise SystemExit(1)


@redaction.command("decide")
@click.argument("project_id", metavar="PROJECT", type=int)
@click.argument("finding_number", metavar="FINDING", type=int)
@click.argument("decision", type=click.Choice(["not-a-face", "fix"]))
@click.option("--render", "number", type=int, help="Which copy (default: the newest).")
@click.option("--note", default="", help="Why (kept with the decision, at most 300 characters).")
@click.option("--as", "username", required=True, help="Who decides (recorded in custody).")
@click.option("--json", "as_json", is_flag=True, help="Print the decided finding as JSON.")
def decide(
    project_id: int,
    finding_number: int,
    decision: str,
    number: int | None,
    note: str,
    username: str,
    as_json: bool,
) -> None:
    """Mark FINDING 'not-a-face', or 'fix' it (a manual box over it for the next render).

    The decision is a custody entry and is written into the copy's manifest."""
    setup()
    from overt.redaction import leaks
    from overt.redaction.services import RedactionProblem

    project = _project(project_id)
    _allow(username, project)
    render = _render(project, number)
    finding = render.leak_findings.filter(number=finding_number).first()
    if finding is None:
        raise click.BadParameter(
            f"copy {render.number} of project {project.pk} has no finding {finding_number}",
            param_hint="FINDING",
        )
    try:
        decided = leaks.decide(finding, decision, username, note=note)
    except RedactionProblem as exc:
        raise click.ClickException(str(exc)) from exc
    data = {**leaks.describe_finding(decided), "releasable": not leaks.blockers(decided.render)}

    def text() -> None:
        click.echo(f"finding {decided.number} of copy {render.number}: {decided.status}")
        if decided.fixed_by_track is not None:
            click.echo(f"manual track {decided.fixed_by_track} added: render again")

    emit(data, as_json, text)


@redaction.command("unmasked")
@click.argument("project_id", metavar="PROJECT", type=int)
@click.option("--as", "username", required=True, help="Who looks (must be allowed to redact).")
@click.option("--json", "as_json", is_flag=True, help="Print the moments as JSON.")
def unmasked(project_id: int, username: str, as_json: bool) -> None:
    """Every moment where something found is not masked: left-out tracks and the newest
    copy's open findings, in time order."""
    setup()
    from overt.redaction import leaks

    project = _project(project_id)
    _allow(username, project)
    moments = leaks.unmasked_moments(project)

    def text() -> None:
        for m in moments:
            click.echo(f"{m['start_s']:.2f}-{m['end_s']:.2f} s  {m['why']}")
        if not moments:
            click.echo("nothing found is unmasked")

    emit(moments, as_json, text)
