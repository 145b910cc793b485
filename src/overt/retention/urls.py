from django.urls import path

from . import manage, views

urlpatterns = [
    path("retention/", views.upcoming_page, name="retention"),
    path("retention/holds/", manage.holds_page, name="retention-holds"),
    path("retention/recycle-bin/", manage.recycle_page, name="retention-recycle"),
    path("retention/early-deletion/", manage.deletion_page, name="retention-deletion"),
    path("retention/policies/", manage.policies_page, name="retention-policies"),
    path("retention/upcoming.json", views.upcoming_json, name="retention-upcoming-json"),
    path(
        "retention/certificates/<str:number>.json",
        views.certificate_json,
        name="retention-certificate-json",
    ),
    path(
        "retention/certificates/<str:number>.pdf",
        views.certificate_pdf,
        name="retention-certificate-pdf",
    ),
]
