from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "overt.fleet"
    label = "fleet"
    verbose_name = "Fleet: cameras, assignment, health and config"
