from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "overt.custody"
    label = "custody"
    verbose_name = "Chain of custody"
