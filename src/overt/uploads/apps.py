from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "overt.uploads"
    label = "uploads"
    verbose_name = "Uploads"
