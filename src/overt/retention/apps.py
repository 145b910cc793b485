from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "overt.retention"
    label = "retention"
    verbose_name = "Retention and deletion"
