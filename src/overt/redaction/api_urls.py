"""/api/redaction/...: the leak check's findings and the unmasked moments (api.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "redaction/<int:pk>/renders/<int:render>/findings/",
        api.FindingList.as_view(),
        name="api-redaction-findings",
    ),
    path(
        "redaction/<int:pk>/renders/<int:render>/findings/<int:number>/decision/",
        api.FindingDecision.as_view(),
        name="api-redaction-finding-decision",
    ),
    path(
        "redaction/<int:pk>/unmasked/", api.UnmaskedMoments.as_view(), name="api-redaction-unmasked"
    ),
]
