"""The leak check's findings over HTTP: list a rendered copy's findings, decide on one,
list every unmasked moment of a project.

Each route calls the service the project page and `overt redaction` call
(overt.redaction.leaks): the same decisions ("not-a-face", "fix"), the same custody
entries and manifest updates. Access is the page's: the user must be allowed to redact
the project's recording. A project on a recording the user may not know of answers 404,
exactly as a project that does not exist; refusals are domain errors, answered as
problem+json (overt.project.errors).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from overt import errors
from overt.access.services import AccessDenied, Action, allowed, check
from overt.web.client_address import client_of
from overt.web.problems import ProblemSerializer

from . import leaks
from .models import RedactionProject, Render

PROBLEM = OpenApiResponse(ProblemSerializer, description="Problem details (RFC 9457).")
READ_ERRORS = {403: PROBLEM, 404: PROBLEM}
TAGS = ["redaction"]


def project_for(request: Request, pk: int) -> RedactionProject:
    """The project, if the user may redact its recording. 404 for no such project and
    for one on a recording the user may not know of; 403 (logged) for one they may see
    but not redact."""
    project = RedactionProject.objects.select_related("original__recording").filter(pk=pk).first()
    if project is None:
        raise errors.NotFound(f"no redaction project {pk}")
    recording = project.original.recording
    try:
        check(request.user, Action.REDACT, recording, client=client_of(request))
    except AccessDenied as exc:
        if not allowed(request.user, Action.LIST, recording):
            raise errors.NotFound(f"no redaction project {pk}") from exc
        raise
    return project


def rendered(project: RedactionProject, number: int) -> Render:
    render = (
        project.renders.select_related("derivative")
        .filter(number=number, derivative__isnull=False)
        .first()
    )
    if render is None:
        raise errors.NotFound(f"project {project.pk} has no rendered copy {number}")
    return render


class FindingSerializer(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    box = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        help_text="x1, y1, x2, y2 as fractions (0..1) of the upright picture.",
    )
    score = serializers.FloatField(help_text="The leak detector's best score for it.")
    frames = serializers.IntegerField(help_text="Checked frames it was found on.")
    status = serializers.CharField(help_text="open, not-a-face or fixed (the decision made).")
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    fixed_by_track = serializers.IntegerField(
        allow_null=True, help_text="The manual track a 'fix' added, for the next render."
    )


class FindingsSerializer(serializers.Serializer[Any]):
    project = serializers.IntegerField()
    render = serializers.IntegerField(help_text="The copy's number within the project.")
    derivative = serializers.IntegerField(help_text="The catalogued redacted copy.")
    detector = serializers.CharField(allow_null=True, help_text="The leak detector, exactly.")
    checked_frames = serializers.IntegerField(allow_null=True)
    releasable = serializers.BooleanField(
        help_text="Whether the copy may leave overt: checked, and every finding not-a-face."
    )
    blockers = serializers.ListField(child=serializers.CharField(), help_text="Why not, if not.")
    findings = FindingSerializer(many=True)


class DecisionSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(
        list(leaks.DECISIONS),
        help_text="not-a-face clears the finding; fix adds a manual track over it for the "
        "next render (this copy stays unreleasable).",
    )
    note = serializers.CharField(
        max_length=300, required=False, default="", allow_blank=True, help_text="Why."
    )


class DecidedSerializer(FindingSerializer):
    releasable = serializers.BooleanField(help_text="Whether the copy may now be released.")


class MomentSerializer(serializers.Serializer[Any]):
    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    why = serializers.CharField(help_text="A left-out track, or an open finding of a copy.")


class FindingList(APIView):
    @extend_schema(tags=TAGS, responses={200: FindingsSerializer, **READ_ERRORS})
    def get(self, request: Request, pk: int, render: int) -> Response:
        """A rendered copy's leak-check findings, their decisions, and whether the copy
        may be released (needs redact on the recording)."""
        copy = rendered(project_for(request, pk), render)
        return Response(leaks.findings_report(copy))


class FindingDecision(APIView):
    @extend_schema(
        tags=TAGS,
        request=DecisionSerializer,
        responses={200: DecidedSerializer, 400: PROBLEM, 409: PROBLEM, **READ_ERRORS},
    )
    def post(self, request: Request, pk: int, render: int, number: int) -> Response:
        """Decide on one finding: not-a-face or fix (a custody entry, and written into the
        copy's manifest). 409 when it was decided before."""
        # Access first: who may not redact learns nothing from how the body is judged.
        copy = rendered(project_for(request, pk), render)
        finding = copy.leak_findings.select_related("render__project", "render__derivative")
        found = finding.filter(number=number).first()
        if found is None:
            raise errors.NotFound(f"copy {copy.number} has no finding {number}")
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decided = leaks.decide(
            found,
            body.validated_data["decision"],
            request.user.get_username(),
            note=body.validated_data["note"],
        )
        return Response(
            {**leaks.describe_finding(decided), "releasable": not leaks.blockers(decided.render)}
        )


class UnmaskedMoments(APIView):
    @extend_schema(tags=TAGS, responses={200: MomentSerializer(many=True), **READ_ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """Every stretch of the project's clip where something found is not masked:
        left-out tracks and the newest copy's open findings, in time order."""
        return Response(leaks.unmasked_moments(project_for(request, pk)))
