from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "overt.cases"
    label = "cases"
    verbose_name = "Cases and sharing"

    def ready(self) -> None:
        from overt.access.services import register_case_recordings
        from overt.custody.integrity import register_catalogue

        from .relation import case_documents, case_recordings

        register_case_recordings(case_recordings)
        register_catalogue(case_documents)  # documents in the store are not "uncatalogued"
