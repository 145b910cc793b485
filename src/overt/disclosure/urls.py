from django.urls import path

from . import api, views

urlpatterns = [
    path("recordings/<int:recording_id>/release", views.release_page, name="release"),
    path("api/originals/<int:pk>/download/", api.OriginalDownload.as_view(), name="api-download"),
    path("api/recordings/<int:pk>/export/", api.RecordingExport.as_view(), name="api-export"),
]
