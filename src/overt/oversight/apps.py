from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "overt.oversight"
    label = "oversight"
    verbose_name = "Oversight: deployments, compliance, review, complaints"

    def ready(self) -> None:
        from .freshness import connect

        connect()  # recordings changing mark the dashboards' snapshot stale
