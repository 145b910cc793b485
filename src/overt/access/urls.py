"""Sign-in and sign-out, the second factor, SSO, break-glass, alerts, post-incident, and
a recording's access page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import oidc
from .views import oversight, people, recording_access, signin

urlpatterns = [
    path("login/", signin.login_view, name="login"),
    path("login/totp/", signin.totp_view, name="login-totp"),
    path("login/totp/setup/", signin.totp_setup_view, name="login-totp-setup"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("oidc/authenticate/", oidc.SSOStart.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.SSOCallback.as_view(), name="oidc_authentication_callback"),
    path(
        "access/break-glass/<int:recording_id>/",
        oversight.break_glass_view,
        name="access-break-glass",
    ),
    path(
        "recordings/<int:recording_id>/access",
        recording_access.recording_access_view,
        name="recording-access",
    ),
    path("access/alerts/", oversight.alerts_view, name="access-alerts"),
    path(
        "access/alerts/<int:alert_id>/acknowledge",
        oversight.alert_acknowledge_view,
        name="access-alert-acknowledge",
    ),
    path("access/post-incident/", oversight.post_incident_list, name="access-post-incident"),
    path(
        "access/post-incident/<int:procedure_id>/release",
        oversight.post_incident_release,
        name="access-post-incident-release",
    ),
    path("access/users/", people.users_page, name="access-users"),
    path(
        "access/users/<int:user_id>/<str:action>",
        people.user_action,
        name="access-user-action",
    ),
    path("access/tokens/", people.tokens_page, name="access-tokens"),
    path(
        "access/tokens/<int:token_id>/revoke", people.token_revoke, name="access-token-revoke"
    ),
]
