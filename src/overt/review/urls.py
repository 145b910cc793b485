from django.urls import path

from . import media, thumbnails, views

urlpatterns = [
    path("", views.library, name="library"),
    path("recordings/<int:recording_id>/", views.recording_page, name="recording"),
    path("media/derivatives/<int:derivative_id>", media.derivative_media, name="derivative-media"),
    path(
        "media/derivatives/<int:derivative_id>/thumbnail",
        thumbnails.poster_thumbnail,
        name="poster-thumbnail",
    ),
    path("jobs/", views.jobs_page, name="jobs"),
    path("incidents/<int:incident_id>/", views.incident_page, name="incident"),
    path("searches/", views.save_search, name="save-search"),
    path("searches/<int:search_id>/delete/", views.delete_search, name="delete-search"),
]
