"""The read-only API: recordings (with the library's filters), originals, jobs."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from overt.access.matrix import Capability
from overt.access.services import (
    AccessDenied,
    Action,
    capability,
    check,
    one_reading,
    visible_recordings,
)
from overt.evidence.catalogue import MAX_WINDOW, FilterError, RecordingFilter, Search
from overt.evidence.models import Original, Recording
from overt.jobs.models import Job
from overt.review.status import jobs_by_original
from overt.transcripts.search import search_for, snippets
from overt.web.problems import ProblemSerializer

from .serializers import (
    JobSerializer,
    OriginalSerializer,
    RecordingDetailSerializer,
    RecordingFoundSerializer,
)

PROBLEM = OpenApiResponse(ProblemSerializer, description="Problem details (RFC 9457).")
ERRORS = {403: PROBLEM, 404: PROBLEM}


class BadFilter(APIException):
    status_code = 400
    default_detail = "invalid filter"
    default_code = "bad_filter"


def _may_view(request: Request, recording: Recording) -> None:
    """Listed is not enough for details: e.g. a post-incident lock lists but refuses."""
    try:
        check(request.user, Action.VIEW, recording)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class SearchPagination(Pagination):
    """The page and count from the view's search (Search.window): its own queries, not
    COUNT over the listing's query. A text search counts exactly up to a bound
    (catalogue.COUNT_LIMIT, or the end of the page asked for); `count_exact` false means
    there are more than `count` matches."""

    count_exact = True

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        search: Search | None = getattr(view, "search", None)
        if search is None:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.limit = self.get_limit(request) or self.default_limit
        self.offset = self.get_offset(request)
        window = search.window(self.offset, self.limit, rows=getattr(view, "page_rows", None))
        self.count, self.count_exact = window.count, window.exact
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        return window.recordings

    def get_next_link(self) -> str | None:
        if self.count_exact or self.request is None or self.limit is None:
            return super().get_next_link()
        if (self.offset or 0) + self.limit >= MAX_WINDOW:  # a text search pages no further
            return None
        url = replace_query_param(
            self.request.build_absolute_uri(), self.limit_query_param, self.limit
        )
        return replace_query_param(url, self.offset_query_param, (self.offset or 0) + self.limit)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data = {"count": self.count, "count_exact": self.count_exact, **response.data}
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count_exact"] = {
            "type": "boolean",
            "example": True,
            "description": "False when a text search stopped counting: more than `count` match.",
        }
        paginated["required"] = [*paginated.get("required", []), "count_exact"]
        return paginated


RECORDING_FILTERS = [
    OpenApiParameter("officer", str, description="Officer's warrant or collar number."),
    OpenApiParameter("device", str, description="Device serial."),
    OpenApiParameter("incident", str, description="Incident reference."),
    OpenApiParameter("category", str, description="Category name."),
    OpenApiParameter("tag", str, description="Tag name."),
    OpenApiParameter(
        "since",
        str,
        description="Triggered at or after: ISO 8601 date or date-time (local time if no offset).",
    ),
    OpenApiParameter(
        "until",
        str,
        description="Triggered before this date-time; a bare date includes that whole day.",
    ),
    OpenApiParameter(
        "q",
        str,
        description=(
            'Words or "quoted phrases", each found in the title, notes, a marker, the '
            "officer (name, number, team), device serial, incident (reference, title), a "
            "category or the words said (where the caller may play the footage)."
        ),
    ),
    OpenApiParameter(
        "box", str, description="south,west,north,east (degrees): the GPS track enters it."
    ),
    OpenApiParameter(
        "near", str, description="lat,lon,radius_m: the GPS track comes within the radius."
    ),
    OpenApiParameter(
        "playable",
        OpenApiTypes.BOOL,
        description="true: no clip is unplayable; false: at least one clip is.",
    ),
]


@extend_schema(
    parameters=RECORDING_FILTERS,
    responses={200: RecordingFoundSerializer(many=True), 400: PROBLEM, 403: PROBLEM},
)
class RecordingList(generics.ListAPIView):
    """Recordings, most recent trigger first (the library's one search)."""

    serializer_class = RecordingFoundSerializer
    pagination_class = SearchPagination
    _snippets: dict[int, Any]
    search: Search

    def get_queryset(self) -> QuerySet[Recording]:
        try:
            self.recording_filter = RecordingFilter.from_params(self.request.query_params)
        except FilterError as exc:
            raise BadFilter(str(exc)) from exc
        clips = Original.objects.only("id", "recording_id", "duration_s", "playable")
        self.search = search_for(self.request.user, self.recording_filter)
        # The page's rows, read by the ids the search found (SearchPagination).
        self.page_rows = Recording.objects.select_related(
            "officer", "device", "incident"
        ).prefetch_related(Prefetch("originals", queryset=clips))
        return (
            self.search.results()
            .defer("gps_track")
            .prefetch_related(Prefetch("originals", queryset=clips))
        )

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        with one_reading():  # access read once for the search, its page and snippets
            return super().list(request, *args, **kwargs)

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        q = getattr(self, "recording_filter", None) and self.recording_filter.q
        self._snippets = snippets(self.request.user, page or [], q) if q else {}
        return page

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "snippets": getattr(self, "_snippets", {})}


@extend_schema(responses={200: RecordingDetailSerializer, **ERRORS})
class RecordingDetail(generics.RetrieveAPIView):
    """One recording with its clips, their derivatives and jobs, and its markers."""

    serializer_class = RecordingDetailSerializer

    def get_queryset(self) -> QuerySet[Recording]:
        recordings = Recording.objects.select_related("officer", "device", "incident")
        return visible_recordings(self.request.user, recordings).prefetch_related(
            "originals", "categories", "tags"
        )

    def get_object(self) -> Recording:
        recording = super().get_object()
        _may_view(self.request, recording)
        return recording

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())  # DRF's is a fresh dict already
        if "pk" in self.kwargs:  # absent while the schema is generated
            originals = list(
                Original.objects.filter(recording_id=self.kwargs["pk"])
                .order_by("started_at", "id")
                .prefetch_related("derivatives")
            )
            context["originals"] = originals
            context["jobs_by_original"] = jobs_by_original(o.pk for o in originals)
        return context


@extend_schema(responses={200: OriginalSerializer, **ERRORS})
class OriginalDetail(generics.RetrieveAPIView):
    """One original file's media facts, derivatives and derivative jobs."""

    serializer_class = OriginalSerializer

    def get_queryset(self) -> QuerySet[Original]:
        visible = visible_recordings(self.request.user)
        return Original.objects.filter(recording__in=visible).prefetch_related("derivatives")

    def get_object(self) -> Original:
        original = super().get_object()
        _may_view(self.request, original.recording)
        return original

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())  # DRF's is a fresh dict already
        if "pk" in self.kwargs:
            context["jobs_by_original"] = jobs_by_original([self.kwargs["pk"]])
        return context


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, enum=Job.Status.values, description="Only this status."),
        OpenApiParameter("kind", str, description='Only this kind, e.g. "media.proxy".'),
    ],
    responses={200: JobSerializer(many=True), 400: PROBLEM, 403: PROBLEM},
)
class JobList(generics.ListAPIView):
    """Background jobs, newest first, with progress."""

    serializer_class = JobSerializer
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[Job]:
        if not capability(self.request.user, Capability.SEE_JOBS):
            raise PermissionDenied("the job list is for evidence managers and administrators")
        jobs = Job.objects.order_by("-created_at", "-id")
        status = self.request.query_params.get("status")
        if status:
            if status not in Job.Status.values:
                allowed = ", ".join(Job.Status.values)
                raise BadFilter(f"status: unknown status {status!r} (one of {allowed})")
            jobs = jobs.filter(status=status)
        kind = self.request.query_params.get("kind")
        if kind:
            if "\x00" in kind:  # PostgreSQL refuses NUL in text: a 500 there, not a filter
                raise BadFilter("kind: may not contain a NUL character")
            jobs = jobs.filter(kind=kind)
        return jobs
