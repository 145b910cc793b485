from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "overt.access"
    label = "access"
    verbose_name = "Access control"
