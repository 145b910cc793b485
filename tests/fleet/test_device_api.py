"""The camera side of the fleet API, per the shared protocol: status in, config out,
with the device's own token; everything else is a problem+json, never a 500."""

from __future__ import annotations

import json

from django.test import Client
from support_fleet import device_client, manager_client, status_body

from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Device
from overt.fleet import profiles
from overt.fleet.models import FleetDevice

JSON = "application/json"


def _post(client, body) -> object:  # type: ignore[no-untyped-def]
    return client.post("/api/device/status/", json.dumps(body), content_type=JSON)


def test_status_is_kept_and_the_server_time_returned(db) -> None:
    Device.objects.create(serial="CAM-S1", model="VB400")
    client = device_client("CAM-S1")
    response = _post(client, status_body(battery_percent=9, pending_bytes=77, pending_segments=1))
    assert response.status_code == 200, response.content
    assert response.json()["server_time"].endswith("Z")
    fleet = FleetDevice.objects.get(device__serial="CAM-S1")
    assert (fleet.battery_percent, fleet.pending_bytes, fleet.pending_segments) == (9, 77, 1)
    assert fleet.last_dock_at is not None and fleet.agent_version == "overt-camera 0.1"


def test_unknown_keys_and_bad_values_are_400_problems(db) -> None:
    Device.objects.create(serial="CAM-S2", model="VB400")
    client = device_client("CAM-S2")
    for body in (status_body(colour="red"), status_body(battery_percent=-1), [1]):
        response = _post(client, body)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"]
    assert not FleetDevice.objects.filter(device__serial="CAM-S2", last_dock_at__isnull=False)


def test_without_a_device_token_it_is_401(db) -> None:
    manager = manager_client()
    assert _post(manager, status_body()).status_code in (401, 403)
    assert manager.get("/api/device/config/").status_code in (401, 403)
    anonymous = Client(headers={"Authorization": "Bearer ovt_nope"})
    response = anonymous.get("/api/device/config/")
    assert response.status_code == 401 and response.json()["status"] == 401


def test_config_follows_profiles_and_applying_it_is_logged(db) -> None:
    device = Device.objects.create(serial="CAM-C1", model="VB400")
    client = device_client("CAM-C1")
    built_in = client.get("/api/device/config/").json()
    assert built_in == profiles.BUILT_IN.as_json()
    by = Actor("user", "em")
    armed = profiles.save_profile(
        "armed",
        {
            "buffer_seconds": 60,
            "audio_in_buffer": True,
            "resolution": "1280x720",
            "peer_group": "ARV-1",
        },
        by=by,
    )
    profiles.assign_profile_to_model("VB400", "armed", by=by)
    config = client.get("/api/device/config/").json()
    assert config["profile"] == "armed" and config["version"] == armed.version
    assert config["settings"] == {
        "buffer_seconds": 60,
        "audio_in_buffer": True,
        "resolution": "1280x720",
        "segment_seconds": 300,
        "peer_group": "ARV-1",
        "offload_bandwidth_kbps": None,
    }
    own = profiles.save_profile("night", {"segment_seconds": 120}, by=by)
    profiles.assign_profile_to_devices([device.serial], "night", by=by)
    assert client.get("/api/device/config/").json()["version"] == own.version > armed.version
    _post(client, status_body(config_version=own.version))
    applied = CustodyEntry.objects.filter(actor="device:CAM-C1").values_list("entry", flat=True)
    assert [json.loads(e)["details"]["config_version"] for e in applied] == [own.version]
