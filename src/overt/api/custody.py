"""Custody API: proofs, checkpoints, verify results and report downloads.

Reading the log needs the read-custody capability (auditors, evidence managers); a
recording's report needs the `audit` action on it (overt.access.matrix).
Errors are RFC 9457 problem details. The verifier key is public, at a well-known URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, overload

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request

from overt.access.custody_reads import log_entries_read, may_read_entries, recordings_of
from overt.access.permissions import ReadsCustody
from overt.access.services import AccessDenied, Action, check
from overt.custody.checkpoints import latest_checkpoint
from overt.custody.errors import CustodyError, ProofError
from overt.custody.keys import verifier_key_text
from overt.custody.models import CustodyEntry, VerifyRun
from overt.custody.proofs import consistency_json, entry_json, inclusion_json
from overt.custody.report import ReportError, build_report_data, report_zip
from overt.custody.services import Actor, Client
from overt.evidence.models import Recording
from overt.web.client_address import client_of
from overt.web.problems import problem

OBJECT = {200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT}


def _query(name: str, kind: type = int, required: bool = False, doc: str = "") -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=required, description=doc)


class BadParameter(ValueError):
    pass


@overload
def _int(request: Request, name: str, *, required: Literal[True] = ...) -> int: ...
@overload
def _int(request: Request, name: str, *, required: bool) -> int | None: ...
def _int(request: Request, name: str, *, required: bool = True) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if required:
            raise BadParameter(f"the query parameter {name!r} is required")
        return None
    if not raw.isascii() or not raw.isdigit():
        raise BadParameter(f"{name} must be a whole number of 0 or more, not {raw!r}")
    return int(raw)


def _proof_response(make: Callable[[], dict[str, Any]]) -> HttpResponse:
    try:
        return JsonResponse(make())
    except BadParameter as exc:
        return problem(400, "Bad request", str(exc))
    except ProofError as exc:
        return problem(400, "No such proof", str(exc))
    except CustodyError as exc:
        return problem(500, "Custody log unavailable", str(exc))


@require_GET
def verifier_key(request: HttpRequest) -> HttpResponse:
    """The instance's checkpoint verifier key, in the C2SP note verifier-key form."""
    try:
        text = verifier_key_text()
    except CustodyError as exc:
        return problem(503, "No verifier key", str(exc))
    return HttpResponse(text + "\n", content_type="text/plain; charset=utf-8")


@extend_schema(
    tags=["custody"],
    parameters=[
        _query("entry", required=True, doc="Leaf index, from 0."),
        _query("size", doc="Tree size; default the whole log."),
    ],
    responses=OBJECT,
)
@api_view(["GET"])
@permission_classes([ReadsCustody])
def inclusion(request: Request) -> HttpResponse:
    """Inclusion proof: ?entry=N[&size=S]; size defaults to the current log size."""
    return _proof_response(
        lambda: inclusion_json(_int(request, "entry"), _int(request, "size", required=False))
    )


@extend_schema(
    tags=["custody"],
    parameters=[
        _query("old", required=True, doc="The older tree size."),
        _query("new", doc="The newer tree size; default the whole log."),
    ],
    responses=OBJECT,
)
@api_view(["GET"])
@permission_classes([ReadsCustody])
def consistency(request: Request) -> HttpResponse:
    """Consistency proof: ?old=M&new=N; new defaults to the current log size."""
    return _proof_response(
        lambda: consistency_json(_int(request, "old"), _int(request, "new", required=False))
    )


@extend_schema(
    tags=["custody"],
    parameters=[_query("as", str, doc="'note' for the signed note as text/plain.")],
    responses=OBJECT,
)
@api_view(["GET"])
@permission_classes([ReadsCustody])
def checkpoint_latest(request: Request) -> HttpResponse:
    """The latest signed checkpoint: JSON, or the signed note itself with ?as=note."""
    cp = latest_checkpoint()
    if cp is None:
        return problem(404, "No checkpoint yet", "no checkpoint has been issued on this instance")
    if request.query_params.get("as") == "note":
        return HttpResponse(cp.note, content_type="text/plain; charset=utf-8")
    return JsonResponse(
        {
            "size": cp.size,
            "root": cp.root,
            "issued_at": cp.issued_at.isoformat().replace("+00:00", "Z"),
            "note": cp.note,
            "verifier_key": verifier_key_text(),
        }
    )


@extend_schema(
    tags=["custody"],
    parameters=[
        _query("object", str, required=True, doc="An original's SHA-256."),
        _query("justification", str, doc="Why the entries are read; logged with the read."),
    ],
    responses=OBJECT,
)
@api_view(["GET"])
@permission_classes([ReadsCustody])
def entries(request: Request) -> HttpResponse:
    """Entries about one original: ?object=SHA256, with their leaf indices.

    An object of a recording also needs the `audit` action on it, and the read is logged
    (overt.access.custody_reads); a refusal answers as an unknown object does: 404."""
    sha = (request.query_params.get("object") or "").lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        return problem(400, "Bad request", "object must be a 64-digit hex SHA-256")
    _, client = _who(request)
    recordings = recordings_of(sha)
    if not may_read_entries(request.user, recordings, client):
        return _no_entries()
    with transaction.atomic():
        log_entries_read(
            request.user,
            sha,
            recordings,
            justification=request.query_params.get("justification", "")[:1000],
            client=client,
        )
        rows = list(CustodyEntry.objects.filter(object_sha256=sha).order_by("index"))
    if not rows:
        return _no_entries()
    return JsonResponse({"object": sha, "entries": [entry_json(e) for e in rows]})


def _no_entries() -> HttpResponse:
    detail = "no custody entries for this object, or you may not read them"
    return problem(404, "No such object", detail)


@extend_schema(tags=["custody"], responses=OBJECT)
@api_view(["GET"])
@permission_classes([ReadsCustody])
def verify_latest(request: Request) -> HttpResponse:
    """The most recent `overt verify` or scrub result."""
    run = VerifyRun.objects.order_by("-started_at", "-id").first()
    if run is None:
        return problem(404, "Not verified yet", "no verify run has been recorded")
    return JsonResponse(
        {
            "id": run.pk,
            "trigger": run.trigger,
            "log_only": run.log_only,
            "started_at": run.started_at.isoformat().replace("+00:00", "Z"),
            "finished_at": run.finished_at.isoformat().replace("+00:00", "Z"),
            "ok": run.ok,
            "entries": run.entries,
            "checkpoints": run.checkpoints,
            "objects_checked": run.objects_checked,
            "problems": run.problems,
            "entry_index": run.entry_index,
        }
    )


def _who(request: Request) -> tuple[Actor, Client]:
    actor = Actor("user", request.user.get_username())
    return actor, client_of(request)


@extend_schema(
    tags=["custody"],
    parameters=[
        OpenApiParameter("recording_id", int, OpenApiParameter.PATH),
        OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["zip", "json"]),
        _query("justification", str, doc="Why the report is taken; logged with the export."),
    ],
    responses={
        (200, "application/zip"): OpenApiTypes.BINARY,
        (200, "application/json"): OpenApiTypes.OBJECT,  # the .json form
        404: OpenApiTypes.OBJECT,
    },
)
@api_view(["GET"])
def report(request: Request, recording_id: int, fmt: str) -> HttpResponse:
    """The custody report of one recording: .zip (JSON, HTML, PDF, verifier) or .json.

    Downloading it is an `export`, logged with the optional ?justification=.
    """
    actor, client = _who(request)
    justification = request.query_params.get("justification", "")[:1000]
    try:  # the access rules' `audit` action; a refusal reveals nothing and is logged
        check(request.user, Action.AUDIT, Recording.objects.get(pk=recording_id), client=client)
    except (Recording.DoesNotExist, AccessDenied):
        return problem(404, "No such report", "no such recording, or you may not see it")
    try:
        if fmt == "json":
            data = build_report_data(
                recording_id, actor=actor, justification=justification, client=client
            )
            return JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
        body = report_zip(recording_id, actor=actor, justification=justification, client=client)
    except ReportError as exc:
        return problem(404, "No such report", str(exc))
    except CustodyError as exc:
        return problem(500, "Custody report failed", str(exc))
    response = HttpResponse(body, content_type="application/zip")
    name = f"custody-report-recording-{recording_id}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
