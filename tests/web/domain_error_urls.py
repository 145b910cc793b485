"""The project's URLconf plus views that let a domain error through, as a service's
refusal reaches a view: one plain Django view and one DRF view per error."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from overt import errors
from overt.access.services import AccessDenied
from overt.project.urls import (  # noqa: F401 (Django looks the handlers up on this module)
    handler400,
    handler403,
    handler404,
    handler500,
)
from overt.project.urls import urlpatterns as project_urlpatterns
from overt.retention.common import Refused

RAISED: dict[str, errors.DomainError] = {
    "not-found": errors.NotFound("no recording 41"),
    "invalid": errors.Invalid("the in-point is after the out-point", field="in_s"),
    "held": Refused("recording 7 is under a legal hold"),  # retention's own, a Conflict
    "denied": AccessDenied("you may not edit recording 7"),  # access's own, a Refused
    "gone": errors.Gone("the upload expired", upload="u1"),
}


def page(request: HttpRequest, kind: str) -> HttpResponse:
    raise RAISED[kind]


@api_view(["GET"])
@permission_classes([AllowAny])
def api(request: Request, kind: str) -> HttpResponse:
    raise RAISED[kind]


urlpatterns = [
    path("test-domain/<str:kind>/", page),
    path("api/test-domain/<str:kind>/", api),
    *project_urlpatterns,
]
