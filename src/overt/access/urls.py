"""Sign-in and sign-out, the second factor, SSO, break-glass, alerts, post-incident, and
a recording's access page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import oidc, views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/totp/", views.totp_view, name="login-totp"),
    path("login/totp/setup/", views.totp_setup_view, name="login-totp-setup"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("oidc/authenticate/", oidc.SSOStart.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.SSOCallback.as_view(), name="oidc_authentication_callback"),
    path(
        "access/break-glass/<int:recording_id>/", views.break_glass_view, name="access-break-glass"
    ),
    path(
        "recordings/<int:recording_id>/access",
        views.recording_access_view,
        name="recording-access",
    ),
    path("access/alerts/", views.alerts_view, name="access-alerts"),
    path(
        "access/alerts/<int:alert_id>/acknowledge",
        views.alert_acknowledge_view,
        name="access-alert-acknowledge",
    ),
    path("access/post-incident/", views.post_incident_list, name="access-post-incident"),
    path(
        "access/post-incident/<int:procedure_id>/release",
        views.post_incident_release,
        name="access-post-incident-release",
    ),
]
