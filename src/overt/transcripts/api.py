"""/api/originals/{id}/transcript/: read the current transcript, or correct it (a new
version). The checks, writes and custody entries are the service's (services.py)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from overt.access.matrix import Action
from overt.web.client_address import client_of
from overt.web.problems import ProblemSerializer

from . import corrections, services

PROBLEM = OpenApiResponse(ProblemSerializer, description="Problem details (RFC 9457).")
ERRORS = {400: PROBLEM, 403: PROBLEM, 404: PROBLEM}


class CorrectionSerializer(serializers.Serializer[Any]):
    changes = serializers.DictField(
        child=serializers.CharField(max_length=100, allow_blank=True),
        help_text='Word index -> corrected word ("" removes the word), e.g. {"3": "Hughes"}.',
    )
    note = serializers.CharField(max_length=500, help_text="Why it is corrected.")


class TranscriptView(APIView):
    """The current transcript of one original (needs stream), or a correction (needs edit)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        version = services.read(request.user, pk, client_of(request))
        return Response(services.describe(version))

    @extend_schema(request=CorrectionSerializer, responses={201: OpenApiTypes.OBJECT, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        # Access first: who may not edit this original learns nothing from how the body is
        # judged (the ID walk's attacker got 400 for any id, seen or not).
        services.original_for(request.user, pk, Action.EDIT, client_of(request))
        body = CorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            changes = {int(k): v for k, v in body.validated_data["changes"].items()}
        except ValueError:
            raise serializers.ValidationError({"changes": "keys are word indexes"}) from None
        version = corrections.correct(
            request.user,
            pk,
            changes,
            body.validated_data["note"],
            client_of(request),
        )
        return Response(services.describe(version), status=201)
