"""The oversight API: deployments in, compliance verdicts and complaints out.

Every endpoint calls the same services as the CLI and the pages; refusals are domain
errors, which the API answers as problem+json (overt.project.errors).

Longer than 400 lines because it is the whole oversight surface in one place (deployments,
compliance, drill-down, review draws, complaints, reports), each view a few thin lines over
its service; split by route family it would scatter one schema.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from overt import errors
from overt.access.identity import standing
from overt.access.matrix import Capability
from overt.access.services import require, visible_recordings
from overt.custody.services import Actor
from overt.web.problems import ProblemSerializer

from . import complaints, compliance, supervision
from .deployments import MAX_IMPORT_BYTES, import_deployments, too_large
from .models import ReviewItem
from .report import report_zip

PROBLEM = OpenApiResponse(ProblemSerializer, description="Problem details (RFC 9457).")


class RawBody(BaseParser):
    """The body as bytes: the importer reads JSON and CSV itself, all or nothing."""

    media_type = "*/*"

    def parse(  # type: ignore[override]  # DRF's parsers may return any body
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> bytes:
        return bytes(stream.read()) if stream is not None else b""


# Its own component name: `Officer` is the recordings API's (overt.api.serializers).
@extend_schema_serializer(component_name="DeploymentOfficer")
class OfficerSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    number = serializers.CharField()
    arrived_at = serializers.DateTimeField(allow_null=True, required=False)
    departed_at = serializers.DateTimeField(allow_null=True, required=False)


class LocationSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    lat = serializers.FloatField()
    lon = serializers.FloatField()


class DeploymentSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    """The contract (docs/oversight.md); times are RFC 3339 UTC."""

    reference = serializers.CharField()
    type = serializers.ChoiceField(
        ["armed-deployment", "cad-incident", "stop-and-search", "use-of-force"]
    )
    borough = serializers.CharField()
    team = serializers.CharField()
    authorised_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    location = LocationSerializer(allow_null=True)
    officers = OfficerSerializer(many=True)


class ImportResultSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    attendances = serializers.IntegerField()
    updated_references = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.DictField())
    file_sha256 = serializers.CharField()


def _actor(request: Request) -> Actor:
    return Actor("user", request.user.get_username())


class BoundedBody(RawBody):
    """The body as bytes, read no further than the import limit (413 beyond it)."""

    def parse(  # type: ignore[override]  # DRF's parsers may return any body
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> bytes:
        if stream is None:
            return b""
        body = bytes(stream.read(MAX_IMPORT_BYTES + 1))
        if len(body) > MAX_IMPORT_BYTES:
            raise too_large(len(body))
        return body


class DeploymentImport(APIView):
    # Form bodies parse as forms first: the session CSRF check reads request.POST, which
    # must be a form, not bytes (a form POST without a token was a 500, not a 403).
    parser_classes = [FormParser, MultiPartParser, BoundedBody]

    @extend_schema(
        tags=["oversight"],
        request={
            "application/json": DeploymentSerializer(many=True),
            "text/csv": OpenApiTypes.STR,
        },
        responses={200: ImportResultSerializer, 400: PROBLEM, 403: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        """Import deployments: a JSON list in the contract's shape, or CSV (text/csv).

        All or nothing: a 400 lists each bad row and field under `errors` and nothing is
        imported. Idempotent on the reference; changed content corrects a deployment."""
        require(request.user, Capability.IMPORT_DEPLOYMENTS)
        body = request.data if isinstance(request.data, bytes) else b""
        kind = (request.content_type or "").split(";")[0].strip().lower()
        # Any other type (or none): told apart by the body's first character.
        name = {"text/csv": "upload.csv", "application/json": "upload.json"}.get(kind, "")
        result = import_deployments(body, name=name, actor=_actor(request))
        return Response(result.as_json())


class ComplianceRowSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    deployment = serializers.CharField()
    officer = serializers.CharField()
    status = serializers.ChoiceField(["recorded", "late", "early-stop", "gaps", "no-footage"])
    activation_delay_s = serializers.FloatField(allow_null=True)
    early_stop_s = serializers.FloatField(allow_null=True)
    recordings = serializers.ListField(child=serializers.IntegerField())


class ComplianceSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    attendances = ComplianceRowSerializer(many=True)
    rates = serializers.DictField()


class ComplianceView(APIView):
    @extend_schema(
        tags=["oversight"],
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
            OpenApiParameter("borough", OpenApiTypes.STR),
        ],
        responses={200: ComplianceSerializer, 400: PROBLEM, 403: PROBLEM},
    )
    def get(self, request: Request) -> Response:
        """Activation compliance for the attendances that began in a date range, with the
        rates per borough, team and month (the same rows as `overt oversight compliance`,
        which also stores them for the dashboards; this GET stores nothing)."""
        require(request.user, Capability.SEE_OVERSIGHT)
        start, end = _date(request, "from"), _date(request, "to")
        # A GET changes nothing: the verdicts the dashboards read are stored by the CLI,
        # the report and the demo (`overt oversight compliance`).
        borough = request.query_params.get("borough") or None
        outcome = compliance.run(start, end, borough, store=False)
        body = outcome.as_json()
        # The same six keys, but `recordings` names only the footage the caller may know
        # of (the drill-down's rule): another's id would tell that it exists.
        known = known_recordings(request.user, {pk for j in outcome.judged for pk in j.recordings})
        for row in body["attendances"]:
            row["recordings"] = [pk for pk in row["recordings"] if pk in known]
        return Response(body)


def known_recordings(user: Any, ids: set[int]) -> set[int]:
    """Those of `ids` that `user` may know exist (the library's `list` rule)."""
    allowed = visible_recordings(user)
    if not allowed.query.where:  # sees every recording: no query needed
        return set(ids)
    listed, out = sorted(ids), set[int]()
    for i in range(0, len(listed), 900):  # SQLite's bound-parameter limit
        chunk = listed[i : i + 900]
        out.update(allowed.filter(pk__in=chunk).values_list("pk", flat=True))
    return out


def _date(request: Request, name: str) -> Any:
    try:
        return date.fromisoformat(request.query_params.get(name, ""))
    except ValueError:
        raise errors.Invalid(f"{name} must be a date such as 2026-11-01", field=name) from None


class ComplaintSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    reference = serializers.CharField()
    received_on = serializers.DateField()
    occurred_from = serializers.DateTimeField()
    occurred_to = serializers.DateTimeField()
    officers = serializers.ListField(child=serializers.CharField())
    latitude = serializers.FloatField(allow_null=True, required=False)
    longitude = serializers.FloatField(allow_null=True, required=False)
    borough = serializers.CharField(required=False)
    summary = serializers.CharField(required=False)


class ComplaintCreate(APIView):
    @extend_schema(
        tags=["oversight"],
        request=ComplaintSerializer,
        responses={201: OpenApiTypes.OBJECT, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        """Register a complaint; the answer proposes the matching footage (recording ids)."""
        require(request.user, Capability.MANAGE_COMPLAINTS)
        data = request.data if isinstance(request.data, dict) else {}
        made = complaints.register(complaints.new_complaint(dict(data)), actor=_actor(request))
        found = [r.pk for r in complaints.proposed(made)]
        # Only footage the user may know of: the others' ids would tell that they exist.
        known = set(
            visible_recordings(request.user).filter(pk__in=found).values_list("pk", flat=True)
        )
        proposed = [pk for pk in found if pk in known]
        return Response({"reference": made.reference, "proposed": proposed}, status=201)


class LinkSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    recording = serializers.IntegerField()


class ComplaintLinkView(APIView):
    @extend_schema(
        tags=["oversight"],
        request=LinkSerializer,
        responses={201: OpenApiTypes.OBJECT, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
    )
    def post(self, request: Request, reference: str) -> Response:
        """Link a recording to the complaint; a complaint hold is placed on it."""
        require(request.user, Capability.MANAGE_COMPLAINTS)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            recording = int(data.get("recording", ""))
        except (TypeError, ValueError):
            raise errors.Invalid("a recording id", field="recording") from None
        if not visible_recordings(request.user).filter(pk=recording).exists():
            raise errors.NotFound(f"no recording {recording}")
        made = complaints.link(reference, recording, actor=_actor(request))
        return Response({"complaint": reference, "recording": recording, "hold": made.hold_id}, 201)


class CloseSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    outcome = serializers.CharField()
    closed_on = serializers.DateField()


class ComplaintCloseView(APIView):
    @extend_schema(
        tags=["oversight"],
        request=CloseSerializer,
        responses={
            200: OpenApiTypes.OBJECT,
            400: PROBLEM,
            403: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
        },
    )
    def post(self, request: Request, reference: str) -> Response:
        """Close the complaint with its outcome; the holds it placed are released."""
        require(request.user, Capability.MANAGE_COMPLAINTS)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            closed_on = date.fromisoformat(str(data.get("closed_on", "")))
        except ValueError:
            raise errors.Invalid("a date such as 2026-12-01", field="closed_on") from None
        made = complaints.close(
            reference,
            outcome=str(data.get("outcome", "")),
            closed_on=closed_on,
            actor=_actor(request),
        )
        return Response(
            {"complaint": made.reference, "outcome": made.outcome, "closed_on": str(made.closed_on)}
        )


class ComplaintFigures(APIView):
    @extend_schema(tags=["oversight"], responses={200: OpenApiTypes.OBJECT, 403: PROBLEM})
    def get(self, request: Request) -> Response:
        """The share of complaints with footage, and days to resolution with and without."""
        require(request.user, Capability.SEE_OVERSIGHT)
        return Response(complaints.figures())


class DrawSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    team = serializers.CharField()
    week = serializers.DateField(help_text="Any day of the week; weeks start on Mondays.")
    size = serializers.IntegerField(required=False)
    redraw_reason = serializers.CharField(required=False)


class ReviewDrawView(APIView):
    @extend_schema(
        tags=["oversight"],
        request=DrawSerializer,
        responses={201: OpenApiTypes.OBJECT, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM},
    )
    def post(self, request: Request) -> Response:
        """Draw a team's weekly review sample (seed logged; a redraw needs a reason)."""
        require(request.user, Capability.SUPERVISOR_REVIEW)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            week = supervision.week_of(date.fromisoformat(str(data.get("week", ""))))
        except ValueError:
            raise errors.Invalid("a date such as 2026-11-16", field="week") from None
        size = data.get("size")
        supervision.check_team(standing(request.user).team, str(data.get("team", "")))
        made = supervision.draw(
            str(data.get("team", "")),
            week,
            actor=_actor(request),
            size=size if isinstance(size, int) and size > 0 else None,
            redraw_reason=str(data.get("redraw_reason", "")),
        )
        drawn = list(made.items.all())
        # As on the page: only the sampled recordings the supervisor may know of are
        # named; the others (restricted footage of the team) are counted.
        known = known_recordings(request.user, {i.recording_id for i in drawn})
        items = [
            {"item": i.pk, "recording": i.recording_id, "weight": i.weight, "why": i.why}
            for i in drawn
            if i.recording_id in known
        ]
        return Response(
            {
                "draw": made.pk,
                "seed": made.seed,
                "week": str(made.week),
                "items": items,
                "hidden": len(drawn) - len(items),
            },
            201,
        )


class OutcomeSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    codes = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField(required=False, allow_blank=True)


class ReviewOutcomeView(APIView):
    @extend_schema(
        tags=["oversight"],
        request=OutcomeSerializer,
        responses={
            200: OpenApiTypes.OBJECT,
            400: PROBLEM,
            403: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        """Record the review of a sampled recording, with reason codes and a note."""
        require(request.user, Capability.SUPERVISOR_REVIEW)
        item = ReviewItem.objects.filter(pk=pk).first()
        if (
            item is None
            or not visible_recordings(request.user).filter(pk=item.recording_id).exists()
        ):
            raise errors.NotFound(f"no sampled recording {pk}")
        data = request.data if isinstance(request.data, dict) else {}
        codes = data.get("codes")
        done = supervision.review(
            pk,
            codes=codes if isinstance(codes, list) else [],
            note=str(data.get("note", "")),
            actor=_actor(request),
        )
        return Response({"item": done.pk, "codes": done.reason_codes, "note": done.note})


class MyReviewSerializer(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    recording = serializers.IntegerField()
    codes = serializers.ListField(child=serializers.CharField())
    note = serializers.CharField(allow_blank=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)


class MyReviews(APIView):
    @extend_schema(tags=["oversight"], responses={200: MyReviewSerializer(many=True)})
    def get(self, request: Request) -> Response:
        """The review outcomes of the signed-in officer's own recordings."""
        items = supervision.own_outcomes(standing(request.user).officer_id)
        return Response(
            [
                {
                    "recording": i.recording_id,
                    "codes": i.reason_codes,
                    "note": i.note,
                    "reviewed_at": i.reviewed_at,
                }
                for i in items
            ]
        )


class ReportMonth(serializers.Serializer):  # type: ignore[type-arg]  # generic in the stubs only
    month = serializers.CharField(help_text="e.g. 2026-11")


class TransparencyReportView(APIView):
    @extend_schema(
        tags=["oversight"],
        request=ReportMonth,
        responses={200: OpenApiTypes.BINARY, 400: PROBLEM, 403: PROBLEM},
    )
    def post(self, request: Request) -> HttpResponse:
        """Publish the month's transparency report; the answer is its folder as a zip
        (HTML, PDF, CSV, JSON, signed checkpoint, inclusion proof, offline verifier)."""
        require(request.user, Capability.PUBLISH_REPORTS)
        data = request.data if isinstance(request.data, dict) else {}
        month = str(data.get("month", ""))
        body = report_zip(month, actor=_actor(request))
        response = HttpResponse(body, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="transparency-report-{month}.zip"'
        return response
