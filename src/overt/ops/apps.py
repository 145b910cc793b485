from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "overt.ops"
    label = "ops"
    verbose_name = "Operations"
