"""The camera agent's API (issue 13), under /api/: enrolment, manifests, peer keys."""

from django.urls import path

from . import capture_views

urlpatterns = [
    path("devices/enrol/", capture_views.Enrol.as_view(), name="api-device-enrol"),
    path(
        "capture/manifests/", capture_views.ManifestCreate.as_view(), name="api-capture-manifests"
    ),
    path(
        "capture/manifests/<str:sha256>/",
        capture_views.ManifestDetail.as_view(),
        name="api-capture-manifest",
    ),
    path("device/peers/", capture_views.DevicePeers.as_view(), name="api-device-peers"),
]
