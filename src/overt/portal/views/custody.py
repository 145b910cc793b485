"""The auditor's custody pages: the log browser, one entry with its inclusion proof,
checkpoints with verify runs, and custody report downloads (HTML, PDF, JSON, or all with
the offline verifier), each through the custody services the CLI and API use."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from overt.access.matrix import Action, Capability
from overt.access.services import AccessDenied, capability, check, permitted
from overt.custody.checkpoints import latest_checkpoint
from overt.custody.errors import CustodyError, ProofError
from overt.custody.models import Checkpoint, CustodyEntry, VerifyRun
from overt.custody.proofs import inclusion_json
from overt.custody.report import VERIFIER_SOURCE, ReportError, report_zip, write_report
from overt.custody.services import Actor
from overt.evidence.models import Recording
from overt.web.client_address import client_of

from .. import custody_browser as cb

FORMATS = {"html": "text/html", "pdf": "application/pdf", "json": "application/json"}


def _reads_custody(request: HttpRequest) -> None:
    if not capability(request.user, Capability.READ_CUSTODY):
        raise PermissionDenied("The custody log is for auditors and evidence managers.")


def _reportable(request: HttpRequest) -> list[Recording]:
    may = permitted(request.user, Action.AUDIT, Recording.objects.all())
    return list(may.select_related("officer").order_by("-trigger_on_at", "-pk")[:300])


@login_required
@require_safe
def browser(request: HttpRequest) -> HttpResponse:
    _reads_custody(request)
    actors, actions = cb.choices()
    context: dict[str, Any] = {
        "params": request.GET,
        "actors": actors,
        "actions": actions,
        "recordings": _reportable(request),
    }
    try:
        wanted = cb.EntryFilter.from_params(request.GET)
    except cb.FilterError as exc:
        context["filter_error"] = exc
        return render(request, "portal/custody_browser.html", context, status=400)
    justification = str(request.GET.get("justification", ""))[:1000]
    page = cb.browse(request.user, wanted, client=client_of(request), justification=justification)
    query = request.GET.copy()
    query.pop("before", None)
    context.update(page=page, query=query.urlencode())
    return render(request, "portal/custody_browser.html", context)


@login_required
@require_safe
def entry(request: HttpRequest, index: int) -> HttpResponse:
    _reads_custody(request)
    row = CustodyEntry.objects.filter(index=index).first()
    if row is None:
        raise Http404("no such custody entry")
    rid = cb.recording_of(row)
    if rid is not None and rid not in cb.may_audit(request.user, {rid}):
        raise Http404("no such custody entry, or you may not read it")
    with transaction.atomic():
        client = client_of(request)
        cb.log_read(
            request.user, {rid} if rid is not None else set(), client=client, justification=""
        )
    cp = latest_checkpoint()
    size = cp.size if cp is not None and cp.size > index else None
    try:
        proof = inclusion_json(index, size)
    except (ProofError, CustodyError) as exc:
        proof, problem = None, str(exc)
    else:
        problem = ""
    context = {
        "row": row,
        "recording": rid,
        "body": json.dumps(json.loads(row.entry), indent=2, ensure_ascii=False),
        "proof": proof,
        "proof_json": json.dumps(proof, indent=2) if proof else "",
        "problem": problem,
    }
    return render(request, "portal/custody_entry.html", context)


@login_required
@require_safe
def checkpoints(request: HttpRequest) -> HttpResponse:
    _reads_custody(request)
    context = {
        "checkpoints": Checkpoint.objects.order_by("-size")[:50],
        "runs": VerifyRun.objects.order_by("-started_at", "-id")[:50],
    }
    return render(request, "portal/custody_checkpoints.html", context)


@login_required
@require_safe
def report(request: HttpRequest) -> HttpResponse:
    """?recording=N&format=zip|html|pdf|json[&justification=]: a download, logged as an
    export by the report service (one entry per original)."""
    _reads_custody(request)
    fmt = request.GET.get("format", "zip")
    raw = str(request.GET.get("recording", ""))
    if fmt not in {"zip", *FORMATS} or not raw.isascii() or not raw.isdigit():
        return render(
            request,
            "portal/custody_report_error.html",
            {"message": "Choose a recording and a format."},
            status=400,
        )
    recording_id = int(raw)
    client = client_of(request)
    try:  # the `audit` action, as for the API's report; a refusal is logged there
        check(request.user, Action.AUDIT, Recording.objects.get(pk=recording_id), client=client)
    except (Recording.DoesNotExist, AccessDenied):
        raise Http404("no such recording, or you may not see it") from None
    actor = Actor("user", request.user.get_username())
    justification = str(request.GET.get("justification", ""))[:1000]
    name = f"custody-report-recording-{recording_id}"
    try:
        if fmt == "zip":
            body = report_zip(recording_id, actor=actor, justification=justification, client=client)
            return _download(body, "application/zip", f"{name}.zip")
        with tempfile.TemporaryDirectory(prefix="overt-report-") as tmp:
            files = write_report(
                recording_id, Path(tmp), actor=actor, justification=justification, client=client
            )
            path = {"html": files.html, "pdf": files.pdf, "json": files.json}[fmt]
            if path is None:
                return render(
                    request,
                    "portal/custody_report_error.html",
                    {"message": f"No PDF could be made: {files.pdf_problem}"},
                    status=503,
                )
            return _download(path.read_bytes(), FORMATS[fmt], f"{name}.{fmt}")
    except ReportError as exc:
        raise Http404(str(exc)) from exc


def _download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_safe
def verifier(request: HttpRequest) -> FileResponse:
    """The offline verifier (one Python file, standard library and `cryptography`)."""
    _reads_custody(request)
    return FileResponse(
        VERIFIER_SOURCE.open("rb"),
        as_attachment=True,
        filename=VERIFIER_SOURCE.name,
        content_type="text/x-python",
    )
