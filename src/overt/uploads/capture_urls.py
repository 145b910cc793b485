"""The camera agent's API (issue 13), under /api/: enrolment, manifests, peer keys."""

from django.urls import path

from . import capture_views

urlpatterns = [
    path("devices/enrol/", capture_views.enrol, name="api-device-enrol"),
    path("capture/manifests/", capture_views.manifest_create, name="api-capture-manifests"),
    path(
        "capture/manifests/<str:sha256>/",
        capture_views.manifest_detail,
        name="api-capture-manifest",
    ),
    path("device/peers/", capture_views.peers, name="api-device-peers"),
]
