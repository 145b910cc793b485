"""The review pages: the recordings library (search, facets, saved searches, GPS map), a
recording (justify, then the player with its timeline), an incident's cameras in sync,
and jobs."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from urllib.parse import urlencode, urlsplit

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from overt.access.matrix import Capability
from overt.access.middleware import CSP
from overt.access.services import (
    AccessDenied,
    Action,
    actions_allowed,
    allowed,
    capability,
    check,
    justification_categories,
    visible_recordings,
)
from overt.access.viewing import GRANT_SECONDS, current_grant, justify_view
from overt.conf import get_settings
from overt.custody.models import CustodyEntry
from overt.evidence.catalogue import (
    FACETS,
    HAS_CHOICES,
    SORTS,
    FacetCount,
    FilterError,
    RecordingFilter,
    Search,
    facet_options,
    text_problem,
)
from overt.evidence.models import Category, Derivative, Incident, Original, Recording
from overt.jobs.models import Job
from overt.redaction.models import RedactionProject

from . import derive
from .forms import JustificationForm
from .models import SavedSearch
from .multicam import MAX_PLAYERS
from .status import (
    ClipPosition,
    DerivativeStatus,
    clip_position,
    derivative_statuses,
    job_subject,
)

PAGE_SIZE = 50
JOBS_SHOWN = 100
INGESTS_SHOWN = 20
TRACK_POINTS = 120  # per recording on the library map: enough to draw, cheap to send
MAX_SAVED_SEARCHES = 50


# --- library --------------------------------------------------------------------------


@dataclass
class LibraryRow:
    recording: Recording
    poster_id: int | None
    duration_s: float | None
    clips: int
    unplayable: int
    made_clips: int = 0
    made_stills: int = 0
    url: str = ""
    poster_url: str = ""
    incident_url: str = ""


@dataclass
class LibraryPage:
    rows: list[LibraryRow]
    number: int
    has_next: bool
    total: int | None
    num_pages: int | None
    start_index: int = 0
    end_index: int = 0
    has_previous: bool = field(init=False)

    def __post_init__(self) -> None:
        self.has_previous = self.number > 1


@dataclass
class FacetLink:
    label: str
    count: int
    url: str
    chosen: bool


@login_required
@require_safe
def library(request: HttpRequest) -> HttpResponse:
    context: dict = {"params": request.GET, "nav": "library", **_filter_options(request)}
    context.update(_saved_searches(request))
    try:
        recording_filter = RecordingFilter.from_params(_with_times(request.GET))
    except FilterError as exc:
        context["filter_error"] = exc
        return render(request, "review/library.html", context, status=400)
    sort = request.GET.get("sort", "newest")
    if sort not in SORTS:
        sort = "newest"
    # The access service's restriction, worked out once and ANDed into every query the
    # search makes (page, count, each facet): one set of access lookups per page.
    visible = visible_recordings(request.user, Recording.objects.all())
    search = Search(recording_filter, lambda qs: qs & visible)
    page = _paginate(search, sort, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context.update(
        page=page,
        filtered=not recording_filter.is_empty(),
        query=query.urlencode(),
        sort=sort,
        sorts=[(name, label) for name, (label, _) in SORTS.items()],
        has_choices=HAS_CHOICES,
        facets=_facet_links(request.GET, search.facets()),
        map=_map(page.rows),
    )
    response = render(request, "review/library.html", context)
    tiles = get_settings().map_tile_url
    if tiles:  # let the page load tiles from the configured server, and only from there
        parts = urlsplit(tiles)
        origin = f"{parts.scheme}://{parts.netloc}"
        response.headers["Content-Security-Policy"] = CSP.replace(
            "img-src 'self'", f"img-src 'self' {origin}"
        )
    return response


def _with_times(params: QueryDict) -> QueryDict:
    """The form's optional times of day joined to their dates: since=2026-11-20 and
    since_time=14:30 filter from 14:30 that day; until_time ends the range at that time
    (without it, `until` includes its whole day)."""
    merged = params.copy()
    for name in ("since", "until"):
        day, at = params.get(name, "").strip(), params.get(f"{name}_time", "").strip()
        if day and at and "T" not in day:
            merged[name] = f"{day}T{at}"
    return merged


def _filter_options(request: HttpRequest) -> dict[str, str]:
    """The drop-downs' <option>s, built here: a template loop over ~1000 of them is slow."""
    facets = facet_options(visible_recordings(request.user))
    chosen = request.GET
    return {
        "officer_options": _options(facets.officers, chosen.get("officer")),
        "device_options": _options(facets.devices, chosen.get("device")),
        "category_options": _options(facets.categories, chosen.get("category")),
        "incident_options": _options(facets.incidents, None),
    }


def _options(choices: list[tuple[str, str]], selected: str | None) -> SafeString:
    # Plain escaping: format_html's per-call overhead was a third of the page at ~1000 options.
    parts = [
        f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
        f"{escape(label)}</option>"
        for value, label in choices
    ]
    return SafeString("".join(parts))


def _facet_links(
    params: QueryDict, facets: dict[str, list[FacetCount]]
) -> list[tuple[str, str, list[FacetLink]]]:
    """Each facet's values as links that choose (or, when chosen, clear) that value."""
    out = []
    for name, title in FACETS:
        links = []
        for count in facets.get(name, []):
            query = params.copy()
            query.pop("page", None)
            chosen = params.get(name) == count.value
            if chosen:
                query.pop(name, None)
            else:
                query[name] = count.value
            links.append(FacetLink(count.label, count.count, f"?{query.urlencode()}", chosen))
        out.append((name, title, links))
    return out


def _paginate(search: Search, sort: str, raw_number: str | None) -> LibraryPage:
    try:
        number = max(1, int(raw_number or 1))
    except ValueError:
        number = 1
    total = search.count()
    num_pages = max(1, math.ceil(total / PAGE_SIZE))
    number = min(number, num_pages)  # past the end: the last page
    offset = (number - 1) * PAGE_SIZE
    recordings = search.page(offset, PAGE_SIZE, sort)
    result = LibraryPage(_library_rows(recordings), number, number < num_pages, total, num_pages)
    if result.rows:
        result.start_index = offset + 1
        result.end_index = offset + len(result.rows)
    return result


def _library_rows(recordings: list[Recording]) -> list[LibraryRow]:
    posters = Prefetch(
        "derivatives", queryset=Derivative.objects.filter(kind="poster"), to_attr="posters"
    )
    clips = Original.objects.only(
        "id", "recording_id", "started_at", "duration_s", "playable"
    ).prefetch_related(posters)
    prefetch_related_objects(recordings, Prefetch("originals", queryset=clips))
    made = Counter(
        Derivative.objects.filter(
            original__recording__in=[r.pk for r in recordings],
            kind__in=[Derivative.Kind.CLIP, Derivative.Kind.STILL],
        ).values_list("original__recording_id", "kind")
    )
    # Reversed once, filled in per row: 150 {% url %} tags cost more than the rest of a row.
    recording_url = reverse("recording", args=[0]).replace("/0/", "/{}/")
    # The list shows unidentifiable thumbnails; the poster itself needs a justified view.
    thumbnail_url = reverse("poster-thumbnail", args=[0]).replace("/0/", "/{}/")
    incident_url = reverse("incident", args=[0]).replace("/0/", "/{}/")
    rows = []
    for recording in recordings:
        originals = list(recording.originals.all())
        poster = next((o.posters[0] for o in originals if o.posters), None)
        durations = [o.duration_s for o in originals if o.duration_s is not None]
        rows.append(
            LibraryRow(
                recording,
                poster.pk if poster else None,
                sum(durations) if durations else None,
                len(originals),
                sum(1 for o in originals if not o.playable),
                made[(recording.pk, Derivative.Kind.CLIP)],
                made[(recording.pk, Derivative.Kind.STILL)],
                recording_url.format(recording.pk),
                thumbnail_url.format(poster.pk) if poster else "",
                incident_url.format(recording.incident_id) if recording.incident_id else "",
            )
        )
    return rows


def _map(rows: list[LibraryRow]) -> dict:
    """The page's GPS tracks (thinned), for the map canvas's data attribute."""
    settings = get_settings()
    tracks = Recording.objects.filter(pk__in=[r.recording.pk for r in rows]).values_list(
        "pk", "gps_track", "start_latitude", "start_longitude"
    )
    titles = {r.recording.pk: str(r.recording) for r in rows}
    data = []
    for pk, points, lat, lon in tracks:
        line = [
            [round(float(p["lat"]), 6), round(float(p["lon"]), 6)]
            for p in (points or [])
            if isinstance(p, dict) and "lat" in p and "lon" in p
        ]
        if len(line) > TRACK_POINTS:
            step = len(line) / TRACK_POINTS
            line = [line[int(i * step)] for i in range(TRACK_POINTS)] + [line[-1]]
        if not line and lat is not None and lon is not None:
            line = [[lat, lon]]
        if line:
            data.append(
                {
                    "id": pk,
                    "title": titles.get(pk, ""),
                    "url": reverse("recording", args=[pk]),
                    "points": line,
                }
            )
    return {
        "tracks": json.dumps(data, separators=(",", ":")),
        "count": len(data),
        "tiles": settings.map_tile_url,
        "attribution": settings.map_tile_attribution,
    }


# --- saved searches -----------------------------------------------------------------------


def _saved_searches(request: HttpRequest) -> dict:
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "saved_searches": list(SavedSearch.objects.filter(owner=request.user)[:MAX_SAVED_SEARCHES]),
        "current_query": query.urlencode(),
    }


@login_required
@require_POST
def save_search(request: HttpRequest) -> HttpResponse:
    """Keep the library's current query under a name (the same name replaces it)."""
    name = request.POST.get("name", "").strip()[:100]
    query = QueryDict(request.POST.get("query", "")[:2000]).copy()
    query.pop("page", None)
    if (problem := text_problem(name)) is not None:  # PostgreSQL refuses NUL in text
        return HttpResponse(f"The name {problem}.", status=400, content_type="text/plain")
    if not name:
        return redirect(f"{reverse('library')}?{query.urlencode()}")
    if SavedSearch.objects.filter(owner=request.user).count() >= MAX_SAVED_SEARCHES:
        return HttpResponse(
            f"You have {MAX_SAVED_SEARCHES} saved searches; delete one first.", status=400
        )
    try:
        with transaction.atomic():
            SavedSearch.objects.update_or_create(
                owner=request.user, name=name, defaults={"query": query.urlencode()}
            )
    except IntegrityError:  # a concurrent save of the same name won
        pass
    return redirect(f"{reverse('library')}?{query.urlencode()}")


@login_required
@require_POST
def delete_search(request: HttpRequest, search_id: int) -> HttpResponse:
    get_object_or_404(SavedSearch, pk=search_id, owner=request.user).delete()
    return redirect("library")


# --- a recording ------------------------------------------------------------------------


@dataclass
class ClipView:
    number: int
    original: Original
    statuses: list[DerivativeStatus]
    proxy: Derivative | None
    poster: Derivative | None

    @property
    def player_id(self) -> str:
        return f"player-{self.original.pk}"


@dataclass
class MarkerView:
    text: str
    at: datetime
    created_by: str
    position: ClipPosition | None
    clip: ClipView | None


def _require(request: HttpRequest, action: Action, recording: Recording) -> None:
    try:
        check(request.user, action, recording)
    except AccessDenied as exc:
        raise PermissionDenied(str(exc)) from exc


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def recording_page(request: HttpRequest, recording_id: int) -> HttpResponse:
    recording = get_object_or_404(
        visible_recordings(
            request.user, Recording.objects.select_related("officer", "device", "incident")
        ),
        pk=recording_id,
    )
    _require(request, Action.VIEW, recording)
    status = 200
    if request.method == "POST":
        _require(request, Action.STREAM, recording)
        form = JustificationForm(request.POST)
        if form.is_valid():
            reason = form.cleaned_data
            justify_view(request, recording, reason["category"], reason["text"])
            return redirect("recording", recording_id=recording.pk)  # a reload must not re-log
        status = 400
    else:
        form = JustificationForm()
    grant = current_grant(request, recording.pk)
    may = actions_allowed(request.user, recording)
    context: dict = {
        "recording": recording,
        "form": form,
        "grant": grant,
        "grant_hours": GRANT_SECONDS // 3600,
        "reasons": justification_categories(),
        "nav": "library",
        "may_release": bool(may & {Action.DOWNLOAD, Action.EXPORT}),
        "may_manage_access": capability(request.user, Capability.MANAGE_ACCESS),
    }
    if Action.REDACT in may:
        context.update(_redaction_links(recording))
    if grant is not None:
        context.update(_playback_context(request, recording, may))
    return render(request, "review/recording.html", context, status=status)


def _redaction_links(recording: Recording) -> dict:
    """For users who may redact it: the recording's redaction projects to open, and the
    clip to preselect when starting one (the start form is the redaction list's)."""
    projects = RedactionProject.objects.filter(original__recording=recording)
    return {
        "redaction_projects": list(projects.order_by("-created_at", "-id")[:5]),
        "redaction_clip": recording.originals.filter(playable=True)
        .order_by("started_at", "id")
        .first(),
    }


def _playback_context(request: HttpRequest, recording: Recording, may: frozenset[Action]) -> dict:
    originals = list(recording.originals.order_by("started_at", "id"))
    statuses = derivative_statuses(originals)
    clips = []
    for number, original in enumerate(originals, start=1):
        made = {s.kind: s.derivative for s in statuses[original.pk]}
        clips.append(
            ClipView(
                number,
                original,
                statuses[original.pk],
                made.get(Derivative.Kind.PROXY) if original.playable else None,
                made.get(Derivative.Kind.POSTER),
            )
        )
    by_original = {clip.original.pk: clip for clip in clips}
    markers = []
    for marker in recording.markers.order_by("at", "id"):
        position = clip_position(marker, originals)
        clip = by_original[position.original.pk] if position else None
        markers.append(MarkerView(marker.text, marker.at, marker.created_by, position, clip))
    user = request.user
    may_audit = Action.AUDIT in may
    playable = [c for c in clips if c.proxy]
    incident_recordings = (
        visible_recordings(user, recording.incident.recordings.all()).count()
        if recording.incident
        else 0
    )
    return {
        "clips": clips,
        "playable_clips": playable,
        "markers": markers,
        "unplayable": [c for c in clips if not c.original.playable],
        "categories": list(recording.categories.values_list("name", flat=True)),
        "tags": list(recording.tags.values_list("name", flat=True)),
        "all_categories": list(Category.objects.values_list("name", flat=True)),
        "may_edit": Action.EDIT in may,
        "may_cut": Action.EDIT in may,  # clips and stills stay in overt
        "may_audit": may_audit,
        "derived": _derived(originals, by_original),
        "pending": _pending(originals),
        "custody": _custody(originals) if may_audit else [],
        "incident_recordings": incident_recordings,
        "api": {
            "recording": reverse("api-recording", args=[recording.pk]),
            "markers": reverse("api-recording-markers", args=[recording.pk]),
            "clips": reverse("api-recording-clips", args=[recording.pk]),
            "stills": reverse("api-recording-stills", args=[recording.pk]),
            "timeline": reverse("api-recording-timeline", args=[recording.pk]),
            "marker": reverse("api-marker", args=[0]).replace("/0/", "/{id}/"),
            "job": reverse("api-derived-job", args=[0]).replace("/0/", "/{id}/"),
        },
    }


@dataclass
class DerivedView:
    derivative: Derivative
    clip: ClipView

    @property
    def label(self) -> str:
        facts = self.derivative.facts or {}
        return facts.get("label") or (
            f"Clip {self.clip.number}, {_clock(facts.get('in_s'))} to {_clock(facts.get('out_s'))}"
            if self.derivative.kind == Derivative.Kind.CLIP
            else f"Clip {self.clip.number} at {_clock(facts.get('at_s'))}"
        )


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, rest = divmod(float(seconds), 60)
    return f"{int(minutes)}:{rest:06.3f}"


def _derived(originals: list[Original], by_original: dict[int, ClipView]) -> list[DerivedView]:
    made = Derivative.objects.filter(
        original__in=originals, kind__in=[Derivative.Kind.CLIP, Derivative.Kind.STILL]
    ).order_by("-id")
    return [DerivedView(d, by_original[d.original_id]) for d in made]


def _pending(originals: list[Original]) -> list[Job]:
    """Clip and still jobs of these originals that have not finished."""
    prefixes = [
        f"{kind}:original:{o.pk}:"
        for o in originals
        for kind in (derive.CLIP_JOB, derive.STILL_JOB)
    ]
    if not prefixes:
        return []
    jobs = Job.objects.exclude(status=Job.Status.SUCCEEDED).filter(
        kind__in=[derive.CLIP_JOB, derive.STILL_JOB]
    )
    return [j for j in jobs.order_by("-id")[:200] if any(j.key.startswith(p) for p in prefixes)]


@dataclass
class CustodyLine:
    index: int
    at: datetime
    action: str
    actor: str
    summary: str


def _custody(originals: list[Original], limit: int = 200) -> list[CustodyLine]:
    shas = [o.sha256 for o in originals]
    entries = CustodyEntry.objects.filter(object_sha256__in=shas).order_by("-index")[:limit]
    lines = []
    for entry in entries:
        body = json.loads(entry.entry)
        details = body.get("details") or {}
        summary = body.get("justification") or ""
        if entry.action == "derivative-create":
            summary = f"{details.get('kind', '')} {str(details.get('sha256', ''))[:12]}"
        elif "field" in details:
            summary = (
                f"{details['field']}: {details.get('before')!s:.40} → {details.get('after')!s:.40}"
            )
        elif entry.action == "marker-add":
            summary = str(details.get("text", ""))
        actor = body.get("actor") or {}
        lines.append(
            CustodyLine(
                entry.index,
                entry.recorded_at,
                entry.action,
                f"{actor.get('kind')}:{actor.get('id')}",
                summary,
            )
        )
    return lines


# --- an incident's cameras in sync ---------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def incident_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Choose 2 to 4 of an incident's recordings, give one reason, watch them in sync."""
    incident = get_object_or_404(Incident, pk=incident_id)
    recordings = [
        r
        for r in visible_recordings(
            request.user,
            incident.recordings.select_related("officer", "device").order_by("trigger_on_at", "id"),
        )
        if allowed(request.user, Action.VIEW, r)
    ]
    if not recordings:  # as if it did not exist: nothing of it may be seen
        raise Http404("no such incident")
    status = 200
    form = JustificationForm()
    chosen = _chosen(request.GET.get("play", ""), recordings)
    if request.method == "POST":
        chosen = _chosen(",".join(request.POST.getlist("recording")), recordings)
        form = JustificationForm(request.POST)
        error = None
        if not 2 <= len(chosen) <= MAX_PLAYERS:
            error = f"Choose between 2 and {MAX_PLAYERS} recordings to watch together."
        if error is None and form.is_valid():
            for recording in chosen:
                _require(request, Action.STREAM, recording)
            reason = form.cleaned_data
            for recording in chosen:
                if current_grant(request, recording.pk) is None:
                    justify_view(request, recording, reason["category"], reason["text"])
            ids = ",".join(str(r.pk) for r in chosen)
            return redirect(f"{reverse('incident', args=[incident.pk])}?{urlencode({'play': ids})}")
        if error:
            form.add_error(None, error)
        status = 400
    playing = [r for r in chosen if current_grant(request, r.pk) is not None]
    context = {
        "incident": incident,
        "recordings": [
            (r, current_grant(request, r.pk) is not None, r in chosen) for r in recordings
        ],
        "form": form,
        "reasons": justification_categories(),
        "playing": playing if len(playing) >= 2 else [],
        "max_players": MAX_PLAYERS,
        "sync_api": reverse("api-incident-sync", args=[incident.pk]),
        "play_ids": ",".join(str(r.pk) for r in playing),
        "nav": "library",
    }
    return render(request, "review/incident.html", context, status=status)


def _chosen(raw: str, recordings: list[Recording]) -> list[Recording]:
    wanted = []
    for part in raw.split(","):
        try:
            wanted.append(int(part))
        except ValueError:
            continue
    by_id = {r.pk: r for r in recordings}
    return [by_id[pk] for pk in dict.fromkeys(wanted) if pk in by_id][: MAX_PLAYERS + 1]


# --- jobs -------------------------------------------------------------------------------


@login_required
@require_safe
def jobs_page(request: HttpRequest) -> HttpResponse:
    if not capability(request.user, Capability.SEE_JOBS):
        raise PermissionDenied("The job list is for evidence managers and administrators.")
    status = request.GET.get("status", "")
    if status not in Job.Status.values:
        status = ""
    jobs = Job.objects.all()
    if status:
        jobs = jobs.filter(status=status)
    shown = list(jobs[:JOBS_SHOWN])
    for job in shown:
        job.subject = job_subject(job)  # type: ignore[attr-defined]
    ingests = list(
        Original.objects.filter(recording__in=visible_recordings(request.user))
        .select_related("recording")
        .only("id", "filename", "ingested_at", "playable", "problem", "size", "recording__title")
        .order_by("-ingested_at", "-id")[:INGESTS_SHOWN]
    )
    context = {
        "jobs": shown,
        "status": status,
        "statuses": Job.Status.choices,
        "limit": JOBS_SHOWN,
        "ingests": ingests,
        "nav": "jobs",
    }
    return render(request, "review/jobs.html", context)
