from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from overt.ops import views as ops

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("", include("overt.portal.urls")),
    path("", include("overt.disclosure.urls")),
    path("", include("overt.oversight.urls")),
    path("", include("overt.cases.urls")),
    path("", include("overt.fleet.urls")),
    path("api/", include("overt.api.urls")),
    path("api/", include("overt.uploads.capture_urls")),
    path("api/", include("overt.redaction.api_urls")),
    path("", include("overt.access.urls")),
    path("", include("overt.api.custody_urls")),
    path("", include("overt.retention.urls")),
    path("", include("overt.uploads.urls")),
    path("redaction/", include("overt.redaction.urls")),
    path("", include("overt.transcripts.urls")),
    path("", include("overt.review.urls")),
]

# The site's own error pages for browsers, problem+json for API clients (project/errors.py).
handler400 = "overt.project.errors.bad_request"
handler403 = "overt.project.errors.permission_denied"
handler404 = "overt.project.errors.page_not_found"
handler500 = "overt.project.errors.server_error"
