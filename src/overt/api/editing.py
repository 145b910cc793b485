"""The review workspace's writes over the API: recording details, bookmarks, clips and
stills, the timeline, and multi-camera offsets. The views only read the request and shape
the answer; the checks, the writes and their custody entries are the review service's
(overt.review.editing), whose domain errors become problem+json by the one mapping
(overt.project.errors)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from overt.access.services import Action, allowed
from overt.evidence.models import Recording
from overt.jobs.models import Job
from overt.review import derive, editing, offsets, timeline
from overt.review.models import SyncOffset
from overt.web.client_address import client_of
from overt.web.problems import ProblemSerializer

from .serializers import (
    DerivativeSerializer,
    JobSerializer,
    MarkerSerializer,
    RecordingDetailSerializer,
)
from .views import RecordingDetail

PROBLEM = OpenApiResponse(ProblemSerializer, description="Problem details (RFC 9457).")
ERRORS = {400: PROBLEM, 403: PROBLEM, 404: PROBLEM}
MAX_TAGS = 30


def _recording(request: Request, pk: int, action: Action) -> Recording:
    """The recording if the viewer may know of it (else 404), after checking `action`."""
    return editing.recording_for(request.user, pk, action, client_of(request))


# --- recording details ---------------------------------------------------------------------


class RecordingEditSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    notes = serializers.CharField(
        max_length=20_000, required=False, allow_blank=True, trim_whitespace=False
    )
    categories = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=MAX_TAGS
    )
    incident = serializers.CharField(
        max_length=64, required=False, allow_null=True, allow_blank=True
    )
    incident_title = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Creates the incident if it is new.",
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class RecordingDetailEdit(RecordingDetail):
    """GET one recording; PATCH its title, notes, categories, tags or incident link."""

    @extend_schema(
        request=RecordingEditSerializer, responses={200: RecordingDetailSerializer, **ERRORS}
    )
    def patch(self, request: Request, pk: int) -> Response:
        edit = RecordingEditSerializer(data=request.data)
        edit.is_valid(raise_exception=True)
        data = edit.validated_data
        recording = _recording(request, pk, Action.EDIT)
        changed = editing.edit_recording(request.user, recording, data, client_of(request))
        response = self.retrieve(request, pk=pk)
        response.data = {**response.data, "changed": changed}
        return response


# --- bookmarks -----------------------------------------------------------------------------


class MarkerInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    at = serializers.DateTimeField(required=False, help_text="Wall-clock time (UTC) it marks.")
    original = serializers.IntegerField(required=False, help_text="Or: a clip of the recording...")
    offset_s = serializers.FloatField(
        required=False, min_value=0, help_text="...and seconds into it."
    )


class MarkerTextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500)


class RecordingMarkers(APIView):
    @extend_schema(request=MarkerInSerializer, responses={201: MarkerSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        """Add a bookmark (custody action `marker-add`)."""
        recording = _recording(request, pk, Action.EDIT)
        body = MarkerInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        where = editing.MarkerAt(data.get("at"), data.get("original"), data.get("offset_s"))
        marker = editing.add_marker(
            request.user, recording, data["text"], where, client_of(request)
        )
        originals = list(recording.originals.order_by("started_at", "id"))
        return Response(MarkerSerializer(marker, context={"originals": originals}).data, status=201)


class MarkerDetail(APIView):
    """Change or remove one of your own bookmarks (camera markers stay as they came)."""

    @extend_schema(request=MarkerTextSerializer, responses={200: MarkerSerializer, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        marker = editing.own_marker(request.user, pk, client_of(request))
        body = MarkerTextSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        text = body.validated_data["text"]
        marker = editing.change_marker_text(request.user, marker, text, client_of(request))
        return Response(MarkerSerializer(marker).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        marker = editing.own_marker(request.user, pk, client_of(request))
        editing.remove_marker(request.user, marker, client_of(request))
        return Response(status=204)


# --- clips and stills ----------------------------------------------------------------------


class ClipInSerializer(serializers.Serializer):
    original = serializers.IntegerField()
    in_s = serializers.FloatField(min_value=0, help_text="First picture, seconds into the clip.")
    out_s = serializers.FloatField(min_value=0, help_text="Last picture (included).")
    # A declared field: DRF's metaclass takes it off the class, so Field.label is untouched.
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=derive.MAX_LABEL, required=False, allow_blank=True
    )


class StillInSerializer(serializers.Serializer):
    original = serializers.IntegerField()
    at_s = serializers.FloatField(min_value=0, help_text="Seconds into the clip.")
    # A declared field: DRF's metaclass takes it off the class, so Field.label is untouched.
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=derive.MAX_LABEL, required=False, allow_blank=True
    )


class DerivedJobSerializer(serializers.Serializer):
    job = JobSerializer()
    derivative = DerivativeSerializer(allow_null=True)


def _derived(job: Job, created: bool) -> Response:
    job.refresh_from_db()
    made = derive.made_by(job)
    body = {
        "job": JobSerializer(job).data,
        "derivative": DerivativeSerializer(made).data if made else None,
    }
    return Response(body, status=status.HTTP_202_ACCEPTED if made is None else status.HTTP_200_OK)


class RecordingClips(APIView):
    @extend_schema(
        request=ClipInSerializer,
        responses={200: DerivedJobSerializer, 202: DerivedJobSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Queue a frame-accurate clip; 202 with its job, or 200 if it was made before."""
        recording = _recording(request, pk, Action.EDIT)
        body = ClipInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        requested = editing.request_clip(
            request.user,
            recording,
            data["original"],
            data["in_s"],
            data["out_s"],
            label=data.get("label", ""),
            client=client_of(request),
        )
        return _derived(requested.job, requested.created)


class RecordingStills(APIView):
    @extend_schema(
        request=StillInSerializer,
        responses={200: DerivedJobSerializer, 202: DerivedJobSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        """Queue a PNG still of one picture; 202 with its job, or 200 if made before."""
        recording = _recording(request, pk, Action.EDIT)
        body = StillInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        requested = editing.request_still(
            request.user,
            recording,
            data["original"],
            data["at_s"],
            label=data.get("label", ""),
            client=client_of(request),
        )
        return _derived(requested.job, requested.created)


class DerivedJob(APIView):
    @extend_schema(responses={200: DerivedJobSerializer, 202: DerivedJobSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """A clip or still job and, once made, its derivative."""
        return _derived(editing.derived_job(request.user, pk, client_of(request)), False)


# --- the timeline --------------------------------------------------------------------------


class RecordingTimeline(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """The player's timeline: clips, and tracks (trigger, bookmarks, waveform, custody)."""
        recording = _recording(request, pk, Action.VIEW)
        originals = list(recording.originals.order_by("started_at", "id"))
        data = timeline.build(
            recording,
            originals,
            username=request.user.get_username(),
            may_audit=allowed(request.user, Action.AUDIT, recording),
        )
        return Response(data)


# --- multi-camera offsets ------------------------------------------------------------------


class OffsetInSerializer(serializers.Serializer):
    offset_s = serializers.FloatField(min_value=-offsets.MAX_NUDGE_S, max_value=offsets.MAX_NUDGE_S)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class SyncOffsetSerializer(serializers.ModelSerializer):
    level = serializers.SerializerMethodField()

    class Meta:
        model = SyncOffset
        fields = [
            "id",
            "reference",
            "other",
            "offset_s",
            "source",
            "estimated_s",
            "confidence",
            "level",
            "peak_ratio",
            "overlap_s",
            "estimator",
            "estimated_at",
            "updated_by",
            "updated_at",
            "note",
        ]

    def get_level(self, row: SyncOffset) -> str:
        from overt.review.sync import confidence_level

        return confidence_level(row.confidence)


class SyncOffsetDetail(APIView):
    @extend_schema(request=OffsetInSerializer, responses={200: SyncOffsetSerializer, **ERRORS})
    def put(self, request: Request, pk: int) -> Response:
        """Set a pair's offset by hand (custody action `metadata-change`, with the reason)."""
        row = editing.editable_offset(request.user, pk, client_of(request))
        body = OffsetInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = editing.set_offset(
            request.user,
            row,
            body.validated_data["offset_s"],
            body.validated_data.get("note", ""),
            client_of(request),
        )
        return Response(SyncOffsetSerializer(saved).data)


class IncidentSync(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """The incident's clips on one wall-clock timeline, with every offset used."""
        incident, recordings = editing.incident_recordings(request.user, pk)
        from overt.review.multicam import sync_state

        return Response(sync_state(request, incident, recordings))

    @extend_schema(request=None, responses={202: JobSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        """Queue the audio offset estimate for the incident's overlapping clips."""
        incident, recordings = editing.incident_recordings(request.user, pk)
        job = editing.request_estimate(incident, recordings)
        return Response(JobSerializer(job).data, status=202)
