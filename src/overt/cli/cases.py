"""`overt case ...` and `overt share ...`: cases, outside shares, receipts and bundles, through
the same services as the pages and the API. Every command acts as an overt user (--as),
whose role the access matrix checks, as it does in the browser."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from .bootstrap import setup
from .people import user_named

AS = "Act as this overt user (their role decides, as in the browser)."


def _user(username: str) -> Any:
    setup()
    return user_named(username, "--as")


@click.group("case")
def case() -> None:
    """Cases: an investigation's footage and documents, held while open."""


@case.command("open")
@click.argument("reference")
@click.argument("title")
@click.option("--officer-in-charge", help="Username of the officer in charge.")
@click.option("--disclosure-officer", help="Username of the disclosure officer.")
@click.option("--as", "as_user", required=True, help=AS)
def case_open(
    reference: str, title: str, officer_in_charge: str | None, disclosure_officer: str | None,
    as_user: str,
) -> None:  # fmt: skip
    """Open a case; prints its id."""
    user = _user(as_user)
    from overt.cases.services import create_case

    made = create_case(user, reference, title, officer_in_charge=officer_in_charge,
                       disclosure_officer=disclosure_officer)  # fmt: skip
    click.echo(f"case {made.pk}: {made.reference}")


@case.command("add")
@click.argument("case_id")
@click.option("--recording", "recordings", multiple=True, type=int, help="Repeatable.")
@click.option("--derivative", "derivatives", multiple=True, type=int, help="Clip, still, redacted.")
@click.option(
    "--document", "documents", multiple=True, type=click.Path(exists=True, dir_okay=False)
)
@click.option("--as", "as_user", required=True, help=AS)
def case_add(
    case_id: str, recordings: tuple[int, ...], derivatives: tuple[int, ...],
    documents: tuple[str, ...], as_user: str,
) -> None:  # fmt: skip
    """Add recordings (held while the case is open), derivatives or documents."""
    user = _user(as_user)
    from overt.cases import items, services

    the_case = services.case_for(user, case_id)
    added = items.add_recordings(user, the_case, list(recordings))
    added += [items.add_derivative(user, the_case, d) for d in derivatives]
    for path in documents:
        with open(path, "rb") as fh:
            added.append(items.add_document(user, the_case, Path(path).name, fh))
    for item in added:
        click.echo(f"item {item.pk}: {item.label}")


@case.command("member")
@click.argument("case_id")
@click.argument("username")
@click.option("--part", required=True, type=click.Choice(
    ["officer-in-charge", "disclosure-officer", "member", "prosecutor", "defence"]))  # fmt: skip
@click.option("--days", type=click.IntRange(1, 3650), help="Until this many days from now.")
@click.option("--as", "as_user", required=True, help=AS)
def case_member(case_id: str, username: str, part: str, days: int | None, as_user: str) -> None:
    """Put someone on the case (its items then stand in the matrix's `case` relation)."""
    user = _user(as_user)
    from overt.cases import services

    until = datetime.now(UTC) + timedelta(days=days) if days else None
    services.add_member(user, services.case_for(user, case_id), username, part, expires_at=until)
    click.echo(f"{username} is on case {case_id} as {part}")


@case.command("end-member")
@click.argument("case_id")
@click.argument("username")
@click.option("--as", "as_user", required=True, help=AS)
def case_end_member(case_id: str, username: str, as_user: str) -> None:
    """Take someone off the case (each membership ended is a custody entry)."""
    user = _user(as_user)
    from overt.cases import services

    the_case = services.case_for(user, case_id)
    found = services.members_named(the_case, username)
    if not found:
        raise click.ClickException(f"{username} is not on case {case_id}")
    for member in found:
        services.end_member(user, the_case, member.pk)
    click.echo(f"{username} is off case {case_id}")


@case.command("mark")
@click.argument("case_id")
@click.argument("item_id")
@click.option("--do-not-disclose/--clear", "flag", default=True)
@click.option("--reason", required=True)
@click.option("--as", "as_user", required=True, help=AS)
def case_mark(case_id: str, item_id: str, flag: bool, reason: str, as_user: str) -> None:
    """Mark an item do-not-disclose (never shared or bundled), or clear the mark."""
    user = _user(as_user)
    from overt.cases import items, services

    items.set_do_not_disclose(user, services.case_for(user, case_id), item_id, flag, reason=reason)
    click.echo(f"item {item_id}: {'do not disclose' if flag else 'may be disclosed'}")


@case.command("show")
@click.argument("case_id")
@click.option("--as", "as_user", required=True, help=AS)
def case_show(case_id: str, as_user: str) -> None:
    """A case and its items, as JSON."""
    user = _user(as_user)
    from overt.cases.api import CaseSerializer
    from overt.cases.services import case_for

    data = CaseSerializer(case_for(user, case_id), context={"user": user}).data
    click.echo(json.dumps(data, indent=2, default=str))


@case.command("close")
@click.argument("case_id")
@click.option("--reason", required=True)
@click.option("--as", "as_user", required=True, help=AS)
def case_close(case_id: str, reason: str, as_user: str) -> None:
    """Close a case: its retention holds are released."""
    user = _user(as_user)
    from overt.cases import services

    services.close_case(user, services.case_for(user, case_id), reason=reason)
    click.echo(f"case {case_id} closed")


@case.command("bundle")
@click.argument("case_id")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option("--category", required=True, help="One of OVERT_JUSTIFICATION_CATEGORIES.")
@click.option("--text", required=True, help="Why the footage leaves overt (custody log).")
@click.option("--as", "as_user", required=True, help=AS)
def case_bundle(case_id: str, out: str, category: str, text: str, as_user: str) -> None:
    """Write the case's disclosure bundle (zip) to OUT."""
    user = _user(as_user)
    from overt.cases.bundle import case_bundle as make

    made = make(user, case_id, category=category, text=text, client=None)
    with open(out, "wb") as fh:
        for chunk in made.chunks:
            fh.write(chunk)
    click.echo(f"wrote {out} (manifest SHA-256 {made.manifest_sha256})")


@click.group("share")
def share() -> None:
    """Outside shares: a link and a one-time code for someone with no account."""


@share.command("create")
@click.option("--case", "case_id", type=int)
@click.option("--recording", type=int)
@click.option("--name", required=True, help="The recipient's name.")
@click.option("--email", required=True)
@click.option("--organisation", default="")
@click.option("--days", type=click.IntRange(1, 90), default=28, show_default=True)
@click.option("--allow-download", is_flag=True)
@click.option("--send-email", is_flag=True, help="Mail the link and code (OVERT_SMTP_URL).")
@click.option("--as", "as_user", required=True, help=AS)
def share_create(
    case_id: int | None, recording: int | None, name: str, email: str, organisation: str,
    days: int, allow_download: bool, send_email: bool, as_user: str,
) -> None:  # fmt: skip
    """Share a case or a recording; prints the link and the code (shown once)."""
    user = _user(as_user)
    from overt.cases.sharing import create_share

    made = create_share(user, case=case_id, recording=recording, recipient_name=name,
        recipient_email=email, recipient_organisation=organisation,
        expires_at=datetime.now(UTC) + timedelta(days=days), allow_download=allow_download,
        send_mail=send_email)  # fmt: skip
    click.echo(f"share {made.share.pk} until {made.share.expires_at:%Y-%m-%d %H:%M} UTC")
    click.echo(f"link: {made.url}")
    click.echo(f"code: {made.code}")
    for line in made.withheld:
        click.echo(f"left out (do not disclose): {line}", err=True)
    if made.mail_problem:
        click.echo(f"not emailed: {made.mail_problem}", err=True)


@share.command("revoke")
@click.argument("share_id")
@click.option("--reason", default="")
@click.option("--as", "as_user", required=True, help=AS)
def share_revoke(share_id: str, reason: str, as_user: str) -> None:
    """End a share now: its link answers 410."""
    user = _user(as_user)
    from overt.cases.sharing import revoke_share

    revoke_share(user, share_id, reason=reason)
    click.echo(f"share {share_id} revoked")


@share.command("receipt")
@click.argument("share_id")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False, writable=True), help="Write a PDF.")
@click.option("--as", "as_user", required=True, help=AS)
def share_receipt(share_id: str, pdf: str | None, as_user: str) -> None:
    """The share's receipt as JSON (or a PDF with --pdf), proved against a checkpoint."""
    user = _user(as_user)
    from overt.cases.receipts import issue_receipt, receipt_pdf

    data = issue_receipt(user, share_id, fmt="pdf" if pdf else "json")
    if pdf:
        Path(pdf).write_bytes(receipt_pdf(data))
        click.echo(f"wrote {pdf}")
    else:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@share.command("verifier")
@click.argument("folder", type=click.Path(file_okay=False))
def share_verifier(folder: str) -> None:
    """Copy overt_verify.py and overt_verify_bundle.py into FOLDER (to check a receipt)."""
    from overt.cases.bundle import VERIFIERS

    Path(folder).mkdir(parents=True, exist_ok=True)
    for name in ("overt_verify.py", "overt_verify_bundle.py"):
        shutil.copyfile(VERIFIERS / name, Path(folder) / name)
    click.echo(f"copied the verifiers to {folder}")
