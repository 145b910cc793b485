from django.urls import path

from . import editing, views

urlpatterns = [
    path("recordings/", views.RecordingList.as_view(), name="api-recordings"),
    path("recordings/<int:pk>/", editing.RecordingDetailEdit.as_view(), name="api-recording"),
    path(
        "recordings/<int:pk>/markers/",
        editing.RecordingMarkers.as_view(),
        name="api-recording-markers",
    ),
    path(
        "recordings/<int:pk>/clips/", editing.RecordingClips.as_view(), name="api-recording-clips"
    ),
    path(
        "recordings/<int:pk>/stills/",
        editing.RecordingStills.as_view(),
        name="api-recording-stills",
    ),
    path(
        "recordings/<int:pk>/timeline/",
        editing.RecordingTimeline.as_view(),
        name="api-recording-timeline",
    ),
    path("markers/<int:pk>/", editing.MarkerDetail.as_view(), name="api-marker"),
    path("originals/<int:pk>/", views.OriginalDetail.as_view(), name="api-original"),
    path("jobs/", views.JobList.as_view(), name="api-jobs"),
    path("jobs/<int:pk>/derived/", editing.DerivedJob.as_view(), name="api-derived-job"),
    path("incidents/<int:pk>/sync/", editing.IncidentSync.as_view(), name="api-incident-sync"),
    path("sync-offsets/<int:pk>/", editing.SyncOffsetDetail.as_view(), name="api-sync-offset"),
]
