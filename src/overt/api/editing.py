"""The review workspace's writes: recording details, bookmarks, clips and stills, the
timeline, and multi-camera offsets. Every change is checked with the access service
first and written to the custody log in the same transaction as the change."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from overt.access.incident_moves import MoveRefused, check_move, log_move, log_refusal
from overt.access.services import AccessDenied, Action, allowed, check, visible_recordings
from overt.custody.services import Actor, Subject, record
from overt.evidence.models import Category, Incident, Marker, Original, Recording, Tag
from overt.ingest.times import CaptureTimeError, check_capture_time
from overt.jobs.models import Job
from overt.review import derive, offsets, timeline
from overt.review.grants import client_of
from overt.review.models import SyncOffset

from .serializers import (
    DerivativeSerializer,
    JobSerializer,
    MarkerSerializer,
    ProblemSerializer,
    RecordingDetailSerializer,
)
from .views import RecordingDetail

PROBLEM = OpenApiResponse(ProblemSerializer, description="Problem details (RFC 9457).")
ERRORS = {400: PROBLEM, 403: PROBLEM, 404: PROBLEM}
MAX_TAGS = 30


def _recording(request: Request, pk: int, action: Action) -> Recording:
    """The recording if the viewer may know of it (else 404), after checking `action`."""
    recording = get_object_or_404(
        visible_recordings(request.user, Recording.objects.select_related("incident")), pk=pk
    )
    _require(request, action, recording)
    return recording


def _require(request: Request, action: Action, recording: Recording) -> None:
    try:
        check(request.user, action, recording, client=client_of(request))
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc


def _actor(request: Request) -> Actor:
    return Actor("user", request.user.get_username())


def _subject(recording: Recording) -> Subject:
    first = recording.originals.order_by("started_at", "id").first()
    ids: dict[str, int | str] = {"recording": recording.pk}
    if first is not None:
        ids["original"] = first.pk
    return Subject(first.sha256 if first else "", ids)


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
        changed = apply_edit(request, recording, data)
        response = self.retrieve(request, pk=pk)
        response.data = {**response.data, "changed": changed}
        return response


def apply_edit(request: Request, recording: Recording, data: dict[str, Any]) -> list[str]:
    """Apply the changes in `data`; one custody entry per field that changed. A change of
    incident that would change who may see the recording is refused (and the refusal
    logged) unless the editor may make that access change (overt.access.incident_moves)."""
    try:
        return _apply_edit(request, recording, data)
    except MoveRefused as refused:  # the edit rolled back; its refusal stays on the record
        log_refusal(refused, _actor(request), _subject(recording), client_of(request))
        raise PermissionDenied(str(refused)) from refused


def _apply_edit(request: Request, recording: Recording, data: dict[str, Any]) -> list[str]:
    from overt.retention.services import NotFound as UnknownCategory
    from overt.retention.services import categorize

    actor, reason, client = _actor(request), data.get("reason", ""), client_of(request)
    changed: list[str] = []
    with transaction.atomic():
        rec = (
            Recording.objects.select_for_update(of=("self",))
            .select_related("incident")
            .get(pk=recording.pk)
        )
        subject = _subject(rec)

        def log(field: str, before: Any, after: Any) -> None:
            changed.append(field)
            record(
                "metadata-change",
                actor,
                subject,
                justification=reason,
                client=client,
                details={"recording": rec.pk, "field": field, "before": before, "after": after},
            )

        for field in ("title", "notes"):
            if field in data and data[field] != getattr(rec, field):
                before = getattr(rec, field)
                setattr(rec, field, data[field])
                rec.save(update_fields=[field])
                log(field, before, data[field])
        if "incident" in data:
            reference = (data["incident"] or "").strip()
            before = rec.incident.reference if rec.incident else None
            if reference != (before or ""):
                incident = None
                if reference:
                    incident = Incident.objects.filter(reference=reference).first()
                    if incident is None:
                        if not data.get("incident_title"):
                            missing = f"no incident {reference!r}; give incident_title to create it"
                            raise ValidationError({"incident": missing})
                        incident = Incident.objects.create(
                            reference=reference,
                            title=data["incident_title"],
                            occurred_at=rec.trigger_on_at,
                        )
                move = check_move(request.user, rec, rec.incident, incident)
                rec.incident = incident
                rec.save(update_fields=["incident"])
                log("incident", before, reference or None)
                if move is not None:
                    log_move(move, actor, subject, reason, client)
        if "tags" in data:
            wanted = sorted({t.strip() for t in data["tags"] if t.strip()})
            before = sorted(rec.tags.values_list("name", flat=True))
            if wanted != before:
                rec.tags.set([Tag.objects.get_or_create(name=name)[0] for name in wanted])
                log("tags", before, wanted)
        if "categories" in data:
            wanted_set = {c.strip() for c in data["categories"] if c.strip()}
            known = set(Category.objects.filter(name__in=wanted_set).values_list("name", flat=True))
            if unknown := wanted_set - known:
                names = ", ".join(sorted(unknown))
                raise ValidationError({"categories": f"unknown categories: {names}"})
            before_set = set(rec.categories.values_list("name", flat=True))
            try:  # retention's own service: it logs category-change and reconsiders retention
                for name in sorted(before_set - wanted_set):
                    categorize(rec.pk, name, actor=actor, remove=True, reason=reason)
                for name in sorted(wanted_set - before_set):
                    categorize(rec.pk, name, actor=actor, reason=reason)
            except UnknownCategory as exc:
                raise ValidationError({"categories": str(exc)}) from exc
            if before_set != wanted_set:
                changed.append("categories")
    return changed


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
        originals = list(recording.originals.order_by("started_at", "id"))
        if data.get("at") is not None:
            at = data["at"]
        elif data.get("original") is not None and data.get("offset_s") is not None:
            original = next((o for o in originals if o.pk == data["original"]), None)
            if original is None or original.started_at is None:
                raise ValidationError(
                    {"original": "not a clip of this recording with a start time"}
                )
            try:
                at = original.started_at + timedelta(seconds=data["offset_s"])
            except OverflowError:
                raise ValidationError({"offset_s": "past the end of any date"}) from None
        else:
            raise ValidationError({"at": "give either at, or original and offset_s"})
        try:  # the same range as every time a camera or client tells overt
            at = check_capture_time(at, "at")
        except CaptureTimeError as exc:
            raise ValidationError({"at" if "at" in data else "offset_s": str(exc)}) from exc
        with transaction.atomic():
            marker = Marker.objects.create(
                recording=recording,
                at=at.astimezone(UTC),
                text=data["text"],
                created_by=request.user.get_username(),
            )
            record(
                "marker-add",
                _actor(request),
                _subject(recording),
                client=client_of(request),
                details={
                    "recording": recording.pk,
                    "marker": marker.pk,
                    "at": marker.at.isoformat().replace("+00:00", "Z"),
                    "text": marker.text,
                },
            )
        return Response(MarkerSerializer(marker, context={"originals": originals}).data, status=201)


class MarkerDetail(APIView):
    """Change or remove one of your own bookmarks (camera markers stay as they came)."""

    def _mine(self, request: Request, pk: int) -> Marker:
        marker = get_object_or_404(
            Marker.objects.select_related("recording").filter(
                recording__in=visible_recordings(request.user)
            ),
            pk=pk,
        )
        _require(request, Action.EDIT, marker.recording)
        if marker.created_by != request.user.get_username():
            raise PermissionDenied("only the reviewer who added a bookmark may change it")
        return marker

    @extend_schema(request=MarkerTextSerializer, responses={200: MarkerSerializer, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        marker = self._mine(request, pk)
        body = MarkerTextSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            before, marker.text = marker.text, body.validated_data["text"]
            marker.save(update_fields=["text"])
            record(
                "metadata-change",
                _actor(request),
                _subject(marker.recording),
                client=client_of(request),
                details={
                    "recording": marker.recording_id,
                    "marker": marker.pk,
                    "before": before,
                    "after": marker.text,
                },
            )
        return Response(MarkerSerializer(marker).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        marker = self._mine(request, pk)
        with transaction.atomic():
            record(
                "metadata-change",
                _actor(request),
                _subject(marker.recording),
                client=client_of(request),
                details={
                    "recording": marker.recording_id,
                    "marker": marker.pk,
                    "removed": {
                        "at": marker.at.isoformat().replace("+00:00", "Z"),
                        "text": marker.text,
                    },
                },
            )
            marker.delete()
        return Response(status=204)


# --- clips and stills ----------------------------------------------------------------------


class ClipInSerializer(serializers.Serializer):
    original = serializers.IntegerField()
    in_s = serializers.FloatField(min_value=0, help_text="First picture, seconds into the clip.")
    out_s = serializers.FloatField(min_value=0, help_text="Last picture (included).")
    label = serializers.CharField(max_length=derive.MAX_LABEL, required=False, allow_blank=True)


class StillInSerializer(serializers.Serializer):
    original = serializers.IntegerField()
    at_s = serializers.FloatField(min_value=0, help_text="Seconds into the clip.")
    label = serializers.CharField(max_length=derive.MAX_LABEL, required=False, allow_blank=True)


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


def _original_of(recording: Recording, pk: int) -> Original:
    original = recording.originals.filter(pk=pk).first()
    if original is None:
        raise ValidationError({"original": f"not a clip of recording {recording.pk}"})
    return original


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
        try:
            requested = derive.request_clip(
                recording,
                _original_of(recording, data["original"]),
                data["in_s"],
                data["out_s"],
                username=request.user.get_username(),
                label=data.get("label", ""),
                client=client_of(request),
            )
        except derive.DeriveError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
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
        try:
            requested = derive.request_still(
                recording,
                _original_of(recording, data["original"]),
                data["at_s"],
                username=request.user.get_username(),
                label=data.get("label", ""),
                client=client_of(request),
            )
        except derive.DeriveError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return _derived(requested.job, requested.created)


class DerivedJob(APIView):
    @extend_schema(responses={200: DerivedJobSerializer, 202: DerivedJobSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """A clip or still job and, once made, its derivative."""
        job = get_object_or_404(Job, pk=pk, kind__in=[derive.CLIP_JOB, derive.STILL_JOB])
        original = (
            Original.objects.filter(pk=job.params.get("original"))
            .select_related("recording")
            .first()
        )
        if (
            original is None
            or not visible_recordings(request.user).filter(pk=original.recording_id).exists()
        ):
            raise NotFound("no such job")
        _require(request, Action.VIEW, original.recording)
        return _derived(job, False)


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
        visible = visible_recordings(request.user)
        row = get_object_or_404(
            SyncOffset.objects.select_related("reference__recording", "other__recording").filter(
                reference__recording__in=visible, other__recording__in=visible
            ),
            pk=pk,
        )
        for original in (row.reference, row.other):
            _require(request, Action.EDIT, original.recording)
        body = OffsetInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        saved = offsets.save_manual(
            row,
            body.validated_data["offset_s"],
            username=request.user.get_username(),
            note=body.validated_data.get("note", ""),
            client=client_of(request),
        )
        return Response(SyncOffsetSerializer(saved).data)


class IncidentSync(APIView):
    def _incident(self, request: Request, pk: int) -> tuple[Incident, list[Recording]]:
        incident = get_object_or_404(Incident, pk=pk)
        recordings = [
            r
            for r in visible_recordings(
                request.user,
                incident.recordings.select_related("officer", "device").order_by(
                    "trigger_on_at", "id"
                ),
            )
            if allowed(request.user, Action.VIEW, r)
        ]
        if not recordings:
            raise NotFound("no such incident, or none of its recordings may be seen")
        return incident, recordings

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        """The incident's clips on one wall-clock timeline, with every offset used."""
        incident, recordings = self._incident(request, pk)
        from overt.review.multicam import sync_state

        return Response(sync_state(request, incident, recordings))

    @extend_schema(request=None, responses={202: JobSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        """Queue the audio offset estimate for the incident's overlapping clips."""
        incident, recordings = self._incident(request, pk)
        if len(recordings) < 2:
            raise ValidationError({"detail": "at least two recordings are needed to compare"})
        job = offsets.request_estimate(incident)
        if job is None:
            raise ValidationError({"detail": "no two clips of this incident overlap in time"})
        return Response(JobSerializer(job).data, status=202)
