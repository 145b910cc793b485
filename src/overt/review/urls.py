from django.urls import path

from . import media, thumbnails
from .views import incidents, jobs, library, recording, searches

urlpatterns = [
    path("", library.library, name="library"),
    path("recordings/<int:recording_id>/", recording.recording_page, name="recording"),
    path("media/derivatives/<int:derivative_id>", media.derivative_media, name="derivative-media"),
    path(
        "media/derivatives/<int:derivative_id>/thumbnail",
        thumbnails.poster_thumbnail,
        name="poster-thumbnail",
    ),
    path("jobs/", jobs.jobs_page, name="jobs"),
    path("incidents/<int:incident_id>/", incidents.incident_page, name="incident"),
    path("searches/", searches.save_search, name="save-search"),
    path("searches/<int:search_id>/delete/", searches.delete_search, name="delete-search"),
]
