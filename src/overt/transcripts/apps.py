from django.apps import AppConfig


class TranscriptsConfig(AppConfig):
    name = "overt.transcripts"
    label = "transcripts"
    verbose_name = "Transcripts and search"
