from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "overt.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        from .registry import check_handlers

        # Each app keeps its handlers in a `jobs` module; fail fast if any kind has none.
        autodiscover_modules("jobs")
        check_handlers()
