"""The fleet's capture-signing key status reads the keys the camera enrolled (Ed25519,
with validity windows, retired on re-enrolment or revocation), not its upload token."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client
from support_fleet import device_client, manager_client

from overt.custody.services import Actor
from overt.evidence.models import Device
from overt.fleet import keys, services
from overt.ingest.models import DeviceKey
from overt.uploads import enrolment

BY = Actor("user", "em")


def _enrol(serial: str) -> str:
    """Enrol `serial` with a fresh key by the camera API; the key's id."""
    code = enrolment.issue_code(serial, by=BY).code
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    answer = Client().post(
        "/api/devices/enrol/",
        json.dumps({"serial": serial, "code": code, "public_key": base64.b64encode(raw).decode()}),
        content_type="application/json",
    )
    assert answer.status_code in (200, 201), answer.content
    return str(answer.json()["key_id"])


def _row(serial: str) -> services.Row:
    return next(r for r in services.rows() if r.serial == serial)


def test_key_status_follows_enrolled_keys_reenrolment_and_revocation(db) -> None:
    for serial in ("CAM-K1", "CAM-K2", "CAM-K3"):
        Device.objects.create(serial=serial, model="VB400")
    device_client("CAM-K3")  # an upload token only: no signing key

    first = _enrol("CAM-K1")
    row = _row("CAM-K1")
    assert (row.key_status, row.key_id, row.key_until) == ("active", first, None)
    assert not any("capture-signing" in r for r in row.health.reasons)

    second = _enrol("CAM-K1")  # re-enrolment retires the first key, keeps it
    assert second != first and _row("CAM-K1").key_id == second
    assert DeviceKey.objects.get(key_id=first).retired_because == "re-enrolled"

    _enrol("CAM-K2")
    enrolment.revoke_device("CAM-K2", by=BY)
    row = _row("CAM-K2")
    assert row.key_status == "retired-only" and row.key_until is not None

    row = _row("CAM-K3")
    assert (row.key_status, row.key_id) == ("none", "")
    assert "no active capture-signing key: footage will be unsigned" in row.health.reasons

    export = manager_client().get("/api/fleet/devices.csv").content.decode()
    k1 = next(r for r in csv.DictReader(io.StringIO(export)) if r["serial"] == "CAM-K1")
    assert (k1["key_status"], k1["key_id"]) == ("active", second)
    listed = manager_client("em2").get("/api/devices/?q=CAM-K3").json()["devices"][0]
    assert listed["key_status"] == "none"
    page = manager_client("em3").get("/fleet/devices/CAM-K1/").content.decode()
    assert first in page and second in page and "re-enrolled" in page


def test_standing_is_judged_at_the_time_asked() -> None:
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    old = DeviceKey(key_id="a" * 16, valid_from=t0, valid_until=t0 + timedelta(days=1))
    new = DeviceKey(key_id="b" * 16, valid_from=t0 + timedelta(days=1))
    assert keys.standing_of([], t0).status == "none"
    assert keys.standing_of([old, new], t0 + timedelta(hours=1)).key_id == "a" * 16
    assert keys.standing_of([old, new], t0 + timedelta(days=2)).key_id == "b" * 16
    before = keys.standing_of([new], t0)  # enrolled later than asked about
    assert before.status == "none"
    assert keys.standing_of([old], t0 + timedelta(days=3)).status == "retired-only"
