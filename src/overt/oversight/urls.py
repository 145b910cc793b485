from django.urls import path

from . import api, views

urlpatterns = [
    path("api/deployments/", api.DeploymentImport.as_view(), name="api-deployments"),
    path("api/oversight/compliance/", api.ComplianceView.as_view(), name="api-compliance"),
    path("api/complaints/", api.ComplaintCreate.as_view(), name="api-complaints"),
    path("api/complaints/figures/", api.ComplaintFigures.as_view(), name="api-complaint-figures"),
    path(
        "api/complaints/<path:reference>/links/",
        api.ComplaintLinkView.as_view(),
        name="api-complaint-links",
    ),
    path(
        "api/complaints/<path:reference>/close/",
        api.ComplaintCloseView.as_view(),
        name="api-complaint-close",
    ),
    path("api/review/draws/", api.ReviewDrawView.as_view(), name="api-review-draws"),
    path("api/review/items/<int:pk>/", api.ReviewOutcomeView.as_view(), name="api-review-item"),
    path("api/review/mine/", api.MyReviews.as_view(), name="api-my-reviews"),
    path("api/oversight/reports/", api.TransparencyReportView.as_view(), name="api-reports"),
    path("oversight/report/", views.report_page, name="oversight-report"),
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
