from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "overt.portal"
    label = "portal"
    verbose_name = "Portal: navigation by role, home pages, custody browser"
