from django.urls import path

from . import api, views

urlpatterns = [
    path("transcripts/originals/<int:original_id>.vtt", views.captions, name="transcript-vtt"),
    path("transcripts/originals/<int:original_id>.json", views.words, name="transcript-words"),
    path("api/originals/<int:pk>/transcript/", api.TranscriptView.as_view(), name="transcript-api"),
]
