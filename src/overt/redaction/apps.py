from django.apps import AppConfig


class RedactionConfig(AppConfig):
    name = "overt.redaction"
    label = "redaction"
    verbose_name = "Redaction projects"
