from django.urls import path

from . import views

urlpatterns = [
    path("retention/", views.upcoming_page, name="retention"),
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
