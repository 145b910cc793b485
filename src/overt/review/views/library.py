"""The recordings library: search, facets, paging and the GPS map."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_safe

from overt.access.middleware import CSP
from overt.access.services import (
    one_reading,
    visible_recordings,
)
from overt.conf import get_settings
from overt.evidence.catalogue import (
    FACETS,
    HAS_CHOICES,
    SORTS,
    FacetCount,
    FilterError,
    RecordingFilter,
    Search,
    facet_options,
)
from overt.evidence.models import Derivative, Original, Recording
from overt.transcripts.search import Snippet, search_for, snippets

from .searches import saved_searches

PAGE_SIZE = 50
TRACK_POINTS = 120  # per recording on the library map: enough to draw, cheap to send


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
    snippet: Snippet | None = None  # where the search's words were said, if they were


@dataclass
class LibraryPage:
    rows: list[LibraryRow]
    number: int
    has_next: bool
    total: int | None
    num_pages: int | None
    total_exact: bool = True  # False: more than `total` match (a text search's bound)
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
    with one_reading():  # access read once for the search, facets, drop-downs and snippets
        return _library(request)


def _library(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"params": request.GET, "nav": "library", **_filter_options(request)}
    context.update(saved_searches(request))
    try:
        recording_filter = RecordingFilter.from_params(_with_times(request.GET))
    except FilterError as exc:
        context["filter_error"] = exc
        return render(request, "review/library.html", context, status=400)
    sort = request.GET.get("sort", "newest")
    if sort not in SORTS:
        sort = "newest"
    # The access service's restriction, worked out once and ANDed into every query the
    # search makes (page, count, each facet): one set of access lookups per page. The
    # words spoken count only where the viewer may play the footage (transcripts.search).
    search = search_for(request.user, recording_filter)
    page = _paginate(search, sort, request.GET.get("page"))
    if recording_filter.q:
        found = snippets(request.user, [row.recording for row in page.rows], recording_filter.q)
        for row in page.rows:
            row.snippet = found.get(row.recording.pk)
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
        facets_bound=None if search.facets_exact else search.bound,
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
    """The page asked for; past the end, the last one. A text search counts only up to
    its bound (catalogue.COUNT_LIMIT, or the end of this page): beyond, "more than"."""
    try:
        number = max(1, int(raw_number or 1))
    except ValueError:
        number = 1
    window = search.window((number - 1) * PAGE_SIZE, PAGE_SIZE, sort)
    if window.exact and number > 1 and not window.recordings:  # past the end: the last page
        number = max(1, math.ceil(window.count / PAGE_SIZE))
        window = search.window((number - 1) * PAGE_SIZE, PAGE_SIZE, sort)
    offset = window.offset
    num_pages = max(1, math.ceil(window.count / PAGE_SIZE)) if window.exact else None
    result = LibraryPage(
        _library_rows(window.recordings),
        number,
        window.has_next,
        window.count,
        num_pages,
        total_exact=window.exact,
    )
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
        # `posters` is the Prefetch's to_attr above, unknown to the model's type.
        poster = next((o.posters[0] for o in originals if o.posters), None)  # type: ignore[attr-defined]
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


def _map(rows: list[LibraryRow]) -> dict[str, Any]:
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
