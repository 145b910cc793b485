from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "overt.media"
    label = "media"
    verbose_name = "Media probe and derivatives"
