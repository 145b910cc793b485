"""The project's URLconf (and so its error handlers) plus views that fail on purpose."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from overt.project.urls import (  # noqa: F401 (Django looks the handlers up on this module)
    handler400,
    handler403,
    handler404,
    handler500,
)
from overt.project.urls import urlpatterns as project_urlpatterns

SECRET = "the view broke: 7f3e"


def broken_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET)


@api_view(["GET"])
@permission_classes([AllowAny])
def broken_api(request: Request) -> HttpResponse:
    raise RuntimeError(SECRET)


urlpatterns = [
    path("test-broken/", broken_page),
    path("api/test-broken/", broken_api),
    *project_urlpatterns,
]
