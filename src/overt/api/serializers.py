"""Read-only representations of the catalogue and jobs for /api/."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from overt.evidence.models import Derivative, Device, Incident, Marker, Officer, Original, Recording
from overt.jobs.models import Job
from overt.review.status import clip_position, job_subject


class OfficerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Officer
        fields = ["number", "name", "team"]


class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ["serial", "model", "firmware"]


class IncidentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Incident
        fields = ["reference", "title", "kind", "occurred_at"]


class JobSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField(help_text='What it works on, e.g. "original:12".')

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "subject",
            "status",
            "progress",
            "message",
            "attempts",
            "max_attempts",
            "last_error",
            "next_attempt_at",
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
        ]

    def get_subject(self, job: Job) -> str:
        return job_subject(job)


class DerivativeSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Where to fetch it (supports Range).")

    class Meta:
        model = Derivative
        fields = [
            "id",
            "kind",
            "sha256",
            "size",
            "content_type",
            "generator",
            "generator_version",
            "facts",
            "created_at",
            "url",
        ]

    def get_url(self, derivative: Derivative) -> str:
        return reverse("derivative-media", args=[derivative.pk])


class OriginalSerializer(serializers.ModelSerializer):
    derivatives = DerivativeSerializer(many=True, read_only=True)
    jobs = serializers.SerializerMethodField(help_text="Jobs making this original's derivatives.")

    class Meta:
        model = Original
        fields = [
            "id",
            "recording",
            "sha256",
            "size",
            "filename",
            "source",
            "container",
            "video_codec",
            "audio_codec",
            "duration_s",
            "width",
            "height",
            "fps",
            "started_at",
            "stopped_at",
            "playable",
            "problem",
            "media_info",
            "ingested_at",
            "capture_manifest_sha256",
            "capture_signature",
            "capture_problems",
            "derivatives",
            "jobs",
        ]

    @extend_schema_field(JobSerializer(many=True))
    def get_jobs(self, original: Original) -> list[dict]:
        jobs = self.context.get("jobs_by_original", {}).get(original.pk, [])
        return JobSerializer(jobs, many=True).data  # type: ignore[return-value]  # many=True: a ReturnList


class ClipPositionSerializer(serializers.Serializer):
    original = serializers.IntegerField(help_text="The clip (original) recording at that moment.")
    offset_s = serializers.FloatField(help_text="Seconds from that clip's start.")


class MarkerSerializer(serializers.ModelSerializer):
    offset_s = serializers.FloatField(read_only=True, help_text="Seconds from trigger on.")
    clip = serializers.SerializerMethodField()

    class Meta:
        model = Marker
        fields = ["id", "at", "text", "created_by", "created_at", "offset_s", "clip"]

    @extend_schema_field(ClipPositionSerializer(allow_null=True))
    def get_clip(self, marker: Marker) -> dict | None:
        position = clip_position(marker, self.context.get("originals", []))
        if position is None:
            return None
        return {"original": position.original.pk, "offset_s": position.offset_s}


class RecordingSummarySerializer(serializers.ModelSerializer):
    officer = OfficerSerializer(read_only=True)
    device = DeviceSerializer(read_only=True)
    incident = IncidentSerializer(read_only=True, allow_null=True)
    clips = serializers.SerializerMethodField(help_text="How many originals (clips) it has.")
    duration_s = serializers.SerializerMethodField(help_text="Total duration of its clips.")
    playable = serializers.SerializerMethodField(help_text="False if any clip is not playable.")

    class Meta:
        model = Recording
        fields = [
            "id",
            "title",
            "officer",
            "device",
            "incident",
            "trigger_on_at",
            "trigger_off_at",
            "clips",
            "duration_s",
            "playable",
            "pre_event_seconds",
            "capture_signature",
            "capture_problems",
        ]
        extra_kwargs = {
            "capture_signature": {
                "help_text": "What the camera signed at the lens: verified, unsigned, broken "
                "or gap (broken beats gap beats unsigned)."
            },
            "capture_problems": {"help_text": "Why the capture signature is not verified."},
            "pre_event_seconds": {"help_text": "The real pre-event buffer before trigger on."},
        }

    def get_clips(self, recording: Recording) -> int:
        return len(recording.originals.all())

    def get_duration_s(self, recording: Recording) -> float | None:
        durations = [o.duration_s for o in recording.originals.all() if o.duration_s is not None]
        return sum(durations) if durations else None

    def get_playable(self, recording: Recording) -> bool:
        return all(o.playable for o in recording.originals.all())


class TranscriptHitSerializer(serializers.Serializer[Any]):
    original = serializers.IntegerField(help_text="The clip (original) in which it was said.")
    at_s = serializers.FloatField(help_text="Seconds into that clip.")
    text = serializers.CharField(help_text="The words around the hit.")
    url = serializers.CharField(help_text="The recording page, opening that clip at that second.")


class RecordingFoundSerializer(RecordingSummarySerializer):
    """A recording in a listing; with `q`, where the words were said (if they were)."""

    transcript_hit = serializers.SerializerMethodField(
        help_text="With q: the first place its transcript matches, else null."
    )

    class Meta(RecordingSummarySerializer.Meta):
        fields = [*RecordingSummarySerializer.Meta.fields, "transcript_hit"]

    @extend_schema_field(TranscriptHitSerializer(allow_null=True))
    def get_transcript_hit(self, recording: Recording) -> dict[str, Any] | None:
        hit = self.context.get("snippets", {}).get(recording.pk)
        if hit is None:
            return None
        return {"original": hit.original, "at_s": hit.at_s, "text": hit.text, "url": hit.url}


class RecordingDetailSerializer(RecordingSummarySerializer):
    categories: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    tags: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    originals = serializers.SerializerMethodField()
    markers = serializers.SerializerMethodField()
    jobs = serializers.SerializerMethodField(help_text="Derivative jobs of all its originals.")

    class Meta(RecordingSummarySerializer.Meta):
        fields = [
            *RecordingSummarySerializer.Meta.fields,
            "trigger_on_reason",
            "trigger_off_reason",
            "clock_offset_s",
            "start_latitude",
            "start_longitude",
            "gps_track",
            "categories",
            "tags",
            "notes",
            "created_at",
            "originals",
            "markers",
            "jobs",
        ]

    @extend_schema_field(OriginalSerializer(many=True))
    def get_originals(self, recording: Recording) -> list[dict]:
        originals = self.context["originals"]
        return OriginalSerializer(originals, many=True, context=self.context).data  # type: ignore[return-value]  # many=True: a ReturnList

    @extend_schema_field(MarkerSerializer(many=True))
    def get_markers(self, recording: Recording) -> list[dict]:
        markers = recording.markers.order_by("at", "id")
        return MarkerSerializer(markers, many=True, context=self.context).data  # type: ignore[return-value]  # many=True: a ReturnList

    @extend_schema_field(JobSerializer(many=True))
    def get_jobs(self, recording: Recording) -> list[dict]:
        jobs = [job for jobs in self.context["jobs_by_original"].values() for job in jobs]
        return JobSerializer(jobs, many=True).data  # type: ignore[return-value]  # many=True: a ReturnList
