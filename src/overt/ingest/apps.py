from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "overt.ingest"
    label = "ingest"
    verbose_name = "Ingest"
