"""The offline base map's features for one view of the map (overt.portal.basemap)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from .. import basemap


@login_required  # a map of the force's area is no evidence, but it is not public either
@require_safe
def features(request: HttpRequest) -> JsonResponse:
    """GET ?bbox=west,south,east,north: the features touching that box (all without it).
    A bad box is a 400 problem (overt.project.errors)."""
    box = basemap.parse_box(request.GET.get("bbox", "").strip())
    response = JsonResponse(basemap.within(basemap.current(), box))
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
