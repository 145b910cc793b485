"""The fleet pages in the browser's terms: who may open them, what they show, and the
forms (assign, kiosk, profiles, attribution) through the services. Never a 500."""

from __future__ import annotations

import json

from django.test import Client
from support_fleet import device_client, manager_client, status_body

from overt.access.matrix import Role
from overt.evidence.models import Device, Officer, Recording
from overt.fleet.models import DeviceProfile
from overt.ingest.people import unattributed_officer
from overt.testing.access import make_user, sign_in


def test_fleet_page_shows_health_filters_and_exports_csv(db) -> None:
    Device.objects.create(serial="CAM-H1", model="VB400")
    Device.objects.create(serial="CAM-H2", model="VB400")
    device_client("CAM-H1").post(
        "/api/device/status/",
        json.dumps(status_body(battery_percent=5)),
        content_type="application/json",
    )
    client = manager_client()
    page = client.get("/fleet/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "CAM-H1" in text and "battery 5%" in text and "never docked" in text
    only = client.get("/fleet/?health=attention&q=H1").content.decode()
    assert "CAM-H1" in only and "CAM-H2" not in only
    export = client.get("/api/fleet/devices.csv?q=H2")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    lines = export.content.decode().splitlines()
    assert lines[0].startswith("serial,model") and len(lines) == 2 and "CAM-H2" in lines[1]
    listed = client.get("/api/devices/?health=attention").json()
    assert listed["count"] == 2


def test_officers_may_not_manage_the_fleet_but_may_use_the_kiosk(db) -> None:
    Officer.objects.create(number="AR1", name="PC One")
    officer = sign_in(Client(), make_user("pc", Role.OFFICER, officer="AR1"))
    assert officer.get("/fleet/").status_code == 403
    assert officer.post("/api/devices/", {"serial": "X", "model": "Y"}).status_code == 403
    kiosk = officer.get("/fleet/kiosk/")
    assert kiosk.status_code == 200 and "Tap your card" in kiosk.content.decode()
    refused = officer.post(
        "/fleet/kiosk/", {"form": "checkout", "officer_tag": "NOPE", "camera_tag": "NOPE"}
    )
    assert refused.status_code == 404 and "not registered" in refused.content.decode()


def test_device_page_assigns_and_the_kiosk_checks_out_and_in(db) -> None:
    Officer.objects.create(number="AR1", name="PC One")
    Device.objects.create(serial="CAM-K", model="VB400")
    client = manager_client()
    client.post("/fleet/devices/CAM-K/", {"form": "tag", "tag": "CAMK"})
    bad = client.post(
        "/fleet/devices/CAM-K/",
        {
            "form": "assign",
            "officer": "AR1",
            "starts_at": "2026-12-01T10:00",
            "ends_at": "2026-12-01T09:00",
        },
        follow=True,
    )
    assert "must end after it starts" in bad.content.decode()
    from overt.custody.services import Actor
    from overt.fleet.assignment import set_officer_tag

    set_officer_tag("AR1", "CARD1", by=Actor("user", "em"))
    out = client.post(
        "/fleet/kiosk/", {"form": "checkout", "officer_tag": "CARD1", "camera_tag": "CAMK"}
    )
    assert out.status_code == 200 and "checked out to officer AR1" in out.content.decode()
    assert "AR1 PC One" in client.get("/fleet/devices/CAM-K/").content.decode()
    back = client.post("/fleet/kiosk/", {"form": "checkin", "camera_tag": "CAMK"})
    assert "checked in from officer AR1" in back.content.decode()


def test_profiles_page_saves_versions_and_unattributed_page_attributes(db) -> None:
    client = manager_client()
    client.post(
        "/fleet/profiles/",
        {
            "form": "profile",
            "name": "armed",
            "buffer_seconds": "90",
            "audio_in_buffer": "on",
            "resolution": "1280x720",
            "segment_seconds": "300",
            "peer_group": "",
            "offload_bandwidth_kbps": "",
        },
    )
    first = DeviceProfile.objects.get(name="armed")
    assert (first.buffer_seconds, first.audio_in_buffer) == (90, True)
    bad = client.post(
        "/fleet/profiles/",
        {"form": "profile", "name": "armed", "buffer_seconds": "500"},
        follow=True,
    )
    assert "buffer_seconds must be between 0 and 120" in bad.content.decode()
    assert DeviceProfile.objects.get(name="armed").version == first.version
    device = Device.objects.create(serial="CAM-U", model="VB400")
    officer = Officer.objects.create(number="AR9", name="PC Nine")
    from datetime import UTC, datetime

    recording = Recording.objects.create(
        device=device,
        officer=unattributed_officer(),
        trigger_on_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert "CAM-U" in client.get("/fleet/unattributed/").content.decode()
    client.post("/fleet/unattributed/", {"recording": recording.pk, "officer": officer.number})
    recording.refresh_from_db()
    assert recording.officer == officer
    assert "Nothing to attribute" in client.get("/fleet/unattributed/").content.decode()
