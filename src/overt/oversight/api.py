"""The oversight API: deployments in, compliance verdicts and complaints out.

Every endpoint calls the same services as the CLI and the pages; refusals are domain
errors, which the API answers as problem+json (overt.project.errors).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from overt.access.matrix import Capability
from overt.access.services import require
from overt.custody.services import Actor
from overt.web.problems import ProblemSerializer

from . import complaints, compliance
from .deployments import import_deployments

PROBLEM = OpenApiResponse(ProblemSerializer, description="Problem details (RFC 9457).")


class RawBody(BaseParser):
    """The body as bytes: the importer reads JSON and CSV itself, all or nothing."""

    media_type = "*/*"

    def parse(  # type: ignore[override]  # DRF's parsers may return any body
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> bytes:
        return bytes(stream.read()) if stream is not None else b""


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


class DeploymentImport(APIView):
    parser_classes = [RawBody]

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
        name = "upload.csv" if kind == "text/csv" else "upload.json"
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
        rates per borough, team and month (the same rows as `overt oversight compliance`)."""
        require(request.user, Capability.SEE_OVERSIGHT)
        start, end = _date(request, "from"), _date(request, "to")
        outcome = compliance.run(start, end, request.query_params.get("borough") or None)
        return Response(outcome.as_json())


def _date(request: Request, name: str) -> Any:
    from datetime import date

    from overt import errors

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
        proposed = [r.pk for r in complaints.proposed(made)]
        return Response({"reference": made.reference, "proposed": proposed}, status=201)
