"""The API's way out for evidence: POST a reason, receive the bytes.

POST rather than GET: the request carries the justification, and it changes the custody
log, so no cache or prefetcher may ever repeat it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from overt.web.client_address import client_of
from overt.web.problems import ProblemSerializer, problem

from . import services
from .web import attachment

PROBLEM = OpenApiResponse(ProblemSerializer, description="Problem details (RFC 9457).")
ERRORS = {400: PROBLEM, 403: PROBLEM, 404: PROBLEM, 410: PROBLEM}


class ReasonSerializer(serializers.Serializer):
    category = serializers.CharField(help_text="One of OVERT_JUSTIFICATION_CATEGORIES.")
    text = serializers.CharField(
        help_text="Why, in your own words; goes into the custody log.",
        allow_blank=True,  # the justification service says what is wrong with it
        trim_whitespace=False,
    )


def _released(request: Request, release_of: Callable[..., services.Release]) -> HttpResponseBase:
    # The reason is checked by the service, after access: someone who may not know of the
    # recording learns nothing from what is wrong with their reason.
    body = request.data if isinstance(request.data, dict) else {}
    try:
        release = release_of(
            client=client_of(request), category=body.get("category"), text=body.get("text")
        )
    except services.ReleaseError as exc:
        return problem(exc.status, exc.title, str(exc))
    return attachment(request, release)


class OriginalDownload(APIView):
    @extend_schema(
        tags=["disclosure"],
        request=ReasonSerializer,
        responses={200: OpenApiTypes.BINARY, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> HttpResponseBase:
        """Download one original byte for byte (custody action `download`, with the reason).

        The response carries `Repr-Digest` (its SHA-256) and the custody entry's index."""
        return _released(request, lambda **kw: services.download_original(request.user, pk, **kw))


class RecordingExport(APIView):
    @extend_schema(
        tags=["disclosure"],
        request=ReasonSerializer,
        responses={200: OpenApiTypes.BINARY, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> HttpResponseBase:
        """Export the exhibit package: originals, custody report and verifier, as a zip.

        Custody action `export`, one entry per original, with the reason."""
        return _released(request, lambda **kw: services.export_package(request.user, pk, **kw))
