from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "overt.cases"
    label = "cases"
    verbose_name = "Cases and sharing"

    def ready(self) -> None:
        from overt.access.services import register_case_recordings

        from .relation import case_recordings

        register_case_recordings(case_recordings)
