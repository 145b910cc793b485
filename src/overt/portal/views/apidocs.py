"""The API documentation page: Swagger UI from drf-spectacular-sidecar's static files
(no CDN), reading the instance's own OpenAPI schema at /api/schema/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@login_required  # the schema itself needs a signed-in user (DRF's default permission)
@require_safe
def api_docs(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/api_docs.html", {})
