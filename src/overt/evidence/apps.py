from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "overt.evidence"
    label = "evidence"
    verbose_name = "Evidence catalogue"
