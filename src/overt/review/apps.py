from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "overt.review"
    label = "review"
    verbose_name = "Review"
