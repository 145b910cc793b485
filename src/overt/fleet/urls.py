from django.urls import path

from . import api, views

urlpatterns = [
    path("fleet/", views.fleet_page, name="fleet"),
    path("fleet/devices/<str:serial>/", views.device_page, name="fleet-device"),
    path("fleet/profiles/", views.profiles_page, name="fleet-profiles"),
    path("fleet/unattributed/", views.unattributed_page, name="fleet-unattributed"),
    path("fleet/kiosk/", views.kiosk_page, name="fleet-kiosk"),
    path("api/device/status/", api.DeviceStatus.as_view(), name="api-device-status"),
    path("api/device/config/", api.DeviceConfig.as_view(), name="api-device-config"),
    path("api/devices/", api.Devices.as_view(), name="api-devices"),
    path("api/fleet/devices.csv", api.DevicesCsv.as_view(), name="api-fleet-csv"),
    path("api/devices/<str:serial>/assign/", api.Assign.as_view(), name="api-device-assign"),
    path("api/devices/<str:serial>/check-in/", api.CheckIn.as_view(), name="api-device-checkin"),
    path("api/fleet/profiles/", api.Profiles.as_view(), name="api-fleet-profiles"),
    path(
        "api/fleet/unattributed/<int:recording_id>/attribute/",
        api.Attribute.as_view(),
        name="api-fleet-attribute",
    ),
]
