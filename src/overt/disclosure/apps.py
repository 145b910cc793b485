from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "overt.disclosure"
    label = "disclosure"
    verbose_name = "Disclosure and downloads"
