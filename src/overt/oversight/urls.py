from django.urls import path

from . import api, views

urlpatterns = [
    path("api/deployments/", api.DeploymentImport.as_view(), name="api-deployments"),
    path("api/oversight/compliance/", api.ComplianceView.as_view(), name="api-compliance"),
    path("api/complaints/", api.ComplaintCreate.as_view(), name="api-complaints"),
    path("oversight/", views.dashboard_page, name="oversight"),
    path("oversight/attendances/", views.attendances, name="oversight-attendances"),
    path("oversight/complaints/", views.complaints_page, name="oversight-complaints"),
    path(
        "oversight/complaints/<path:reference>/",
        views.complaint_page,
        name="oversight-complaint",
    ),
    path("oversight/review/", views.review_page, name="oversight-review"),
    path("oversight/my-reviews/", views.my_reviews, name="oversight-my-reviews"),
]
