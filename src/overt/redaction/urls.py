from django.urls import path

from . import transcript_words, views, views_review

urlpatterns = [
    path("", views.project_list, name="redaction-list"),
    path("new", views.project_create, name="redaction-create"),
    path("<int:pk>/", views.project_page, name="redaction-project"),
    path("<int:pk>/data.json", views.project_data, name="redaction-data"),
    path("<int:pk>/tracks/new", views.track_add, name="redaction-track-add"),
    path("<int:pk>/tracks/<int:number>/thumb.jpg", views.track_thumbnail, name="redaction-thumb"),
    path("<int:pk>/tracks/<int:number>/include", views.track_include, name="redaction-include"),
    path("<int:pk>/tracks/<int:number>/keyframes", views.track_keyframe, name="redaction-keyframe"),
    path(
        "<int:pk>/keyframes/<int:box_id>/delete",
        views.keyframe_delete,
        name="redaction-keyframe-delete",
    ),
    path("<int:pk>/audio", views.audio_add, name="redaction-audio-add"),
    path("<int:pk>/audio/<int:range_id>/delete", views.audio_remove, name="redaction-audio-remove"),
    path("<int:pk>/audio/words", transcript_words.words_add, name="redaction-transcript-words"),
    path("<int:pk>/render", views.render_request, name="redaction-render"),
    path("<int:pk>/view-reason", views_review.view_reason, name="redaction-view-reason"),
    path("<int:pk>/tracks/bulk", views_review.tracks_bulk, name="redaction-tracks-bulk"),
    path(
        "<int:pk>/renders/<int:render>/findings/<int:number>/thumb.jpg",
        views_review.finding_thumbnail,
        name="redaction-finding-thumb",
    ),
    path(
        "<int:pk>/renders/<int:render>/findings/<int:number>/decide",
        views_review.finding_decide,
        name="redaction-finding-decide",
    ),
]
