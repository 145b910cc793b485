from django.urls import path, re_path

from . import device_views, enrol_page, sources, swift_views, views

urlpatterns = [
    path("uploads/new/", views.upload_page, name="upload-new"),
    path("uploads/sources/", sources.register_source, name="upload-source"),
    path("devices/tokens/", device_views.device_tokens_page, name="device-tokens"),
    path(
        "devices/tokens/revoke", device_views.device_tokens_revoke, name="device-tokens-revoke"
    ),
    path("devices/enrolment/", enrol_page.device_enrolment_page, name="device-enrolment"),
    path("auth/v1.0", swift_views.auth_v1, name="axis-auth"),
    re_path(r"^swift/v1/(?P<account>[^/]+)/?$", swift_views.account, name="swift-account"),
    re_path(
        r"^swift/v1/(?P<account>[^/]+)/(?P<container>[^/]+)/?$",
        swift_views.container,
        name="swift-container",
    ),
    re_path(
        r"^swift/v1/(?P<account>[^/]+)/(?P<container>[^/]+)/(?P<name>.+)$",
        swift_views.obj,
        name="swift-object",
    ),
    re_path(r"^files(?P<rest>/.*)?$", views.tus_needs_asgi, name="tus"),
]
