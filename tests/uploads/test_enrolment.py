"""Enrolling a camera (issue 13): `overt device enrol` makes a one-time code, the camera
exchanges it at POST /api/devices/enrol/ for its token, keeping its public key; refusals
are problem+json; revocation ends enrolment and token use; every key stays, with its
validity window. Over HTTP against the real app."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from support_capture import Camera

from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.ingest.models import DeviceKey, EnrolmentAttempt, EnrolmentCode
from overt.uploads import enrolment

ADMIN = Actor("user", "admin")


def _enrol(server: str, camera: Camera, code: str, **changes: object) -> requests.Response:
    body = {
        "serial": camera.serial,
        "code": code,
        "public_key": camera.public_key_b64,
        "agent_version": "test-1",
        **changes,
    }
    return requests.post(f"{server}/api/devices/enrol/", json=body, timeout=30)


def _problem(response: requests.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


def test_a_code_enrols_once_and_the_token_works(server: str, people: tuple) -> None:
    camera = Camera("CAM-1")
    issued = enrolment.issue_code("CAM-1", by=ADMIN)
    assert issued.expires_at - timezone.now() <= timedelta(minutes=15)
    row = EnrolmentCode.objects.get()
    assert issued.code not in row.code_hash and len(row.code_hash) == 64
    answer = _enrol(server, camera, issued.code.lower().replace("-", " "))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == {
        "serial", "device_token", "tus_url", "server_time", "key_id", "encryption_key"
    }  # fmt: skip
    assert body["key_id"] == camera.key_id and body["tus_url"] == "/files/"
    assert body["server_time"].endswith("Z")
    key = DeviceKey.objects.get()
    assert bytes.fromhex(key.public_key) == camera.public_key and key.valid_until is None
    peers = requests.get(
        f"{server}/api/device/peers/",
        headers={"Authorization": f"Bearer {body['device_token']}"},
        timeout=30,
    )
    assert peers.status_code == 200 and peers.json() == {"peers": []}
    # Used: 410, and the custody log has the issue and the use, never the code or token.
    detail = _problem(_enrol(server, camera, issued.code), 410)["detail"]
    assert "used already" in str(detail)
    entries = list(CustodyEntry.objects.filter(action="device-enrolment").order_by("index"))
    whats = [json.loads(e.entry)["details"]["what"] for e in entries]
    assert whats == ["enrolment code issued", "enrolled", "enrolment refused"]
    for entry in entries:
        assert issued.code not in entry.entry and body["device_token"] not in entry.entry


def test_wrong_expired_and_replaced_codes_are_clear(server: str, people: tuple) -> None:
    camera = Camera("CAM-1")
    old = enrolment.issue_code("CAM-1", by=ADMIN)
    new = enrolment.issue_code("CAM-1", by=ADMIN)
    assert "replaced by a newer" in str(_problem(_enrol(server, camera, old.code), 410)["detail"])
    assert "wrong serial or enrolment code" in str(
        _problem(_enrol(server, camera, "AAAA-BBBB-CCCC"), 400)["detail"]
    )
    assert _problem(_enrol(server, Camera("NOPE"), new.code), 400)["detail"]
    EnrolmentCode.objects.filter(voided_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert "expired" in str(_problem(_enrol(server, camera, new.code), 410)["detail"])
    assert not DeviceKey.objects.exists()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[]", 400),
        (json.dumps({"serial": "CAM-1", "code": "x"}).encode(), 400),
        (json.dumps({"serial": "CAM-1", "code": "x", "public_key": "AAAA"}).encode(), 400),
        (json.dumps({"serial": "CAM-1", "code": "x", "public_key": "!!", "more": 1}).encode(), 400),
        (json.dumps({"serial": 7, "code": "x", "public_key": "x"}).encode(), 400),
        (b"x" * 20000, 413),
    ],
)
def test_bad_bodies_are_problems_never_500(
    server: str, people: tuple, body: bytes, status: int
) -> None:
    response = requests.post(
        f"{server}/api/devices/enrol/",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    _problem(response, status)
    assert not DeviceKey.objects.exists()


def test_guessing_is_rate_limited(server: str, people: tuple) -> None:
    camera = Camera("CAM-1")
    issued = enrolment.issue_code("CAM-1", by=ADMIN)
    for _ in range(enrolment.MAX_REFUSALS_PER_ADDRESS):
        _problem(_enrol(server, camera, "WRONG"), 400)
    limited = _enrol(server, camera, issued.code)  # even the right code, for a while
    _problem(limited, 429)
    assert limited.headers["Retry-After"] == "900"
    EnrolmentAttempt.objects.update(at=timezone.now() - timedelta(minutes=16))
    assert _enrol(server, camera, issued.code).status_code == 201


def test_re_enrolment_keeps_the_old_key_with_its_window(server: str, people: tuple) -> None:
    first, second = Camera("CAM-1"), Camera("CAM-1")
    token1 = _enrol(server, first, enrolment.issue_code("CAM-1", by=ADMIN).code).json()
    token2 = _enrol(server, second, enrolment.issue_code("CAM-1", by=ADMIN).code).json()
    old, new = DeviceKey.objects.order_by("id")
    assert (old.key_id, new.key_id) == (first.key_id, second.key_id)
    assert old.valid_until is not None and old.retired_because == "re-enrolled"
    assert new.valid_until is None and new.valid_from >= old.valid_until
    auth = {"Authorization": f"Bearer {token1['device_token']}"}
    assert requests.get(f"{server}/api/device/peers/", headers=auth, timeout=30).status_code == 401
    # A retired key may not come back.
    again = _enrol(server, first, enrolment.issue_code("CAM-1", by=ADMIN).code)
    assert "retired" in str(_problem(again, 400)["detail"])
    assert token2["key_id"] == second.key_id


def test_revocation_stops_enrolment_and_tokens(
    server: str, people: tuple, overt_cli: object
) -> None:
    camera = Camera("CAM-1")
    token = _enrol(server, camera, enrolment.issue_code("CAM-1", by=ADMIN).code).json()
    pending = enrolment.issue_code("CAM-1", by=ADMIN)
    counts = enrolment.revoke_device("CAM-1", by=ADMIN)
    assert counts == {"tokens": 1, "keys": 1, "codes": 1}
    auth = {"Authorization": f"Bearer {token['device_token']}"}
    manifests = requests.post(f"{server}/api/capture/manifests/", headers=auth, json={}, timeout=30)
    _problem(manifests, 401)
    _problem(_enrol(server, camera, pending.code), 403)
    with pytest.raises(enrolment.Refused):
        enrolment.issue_code("CAM-1", by=ADMIN)
    key = DeviceKey.objects.get()
    assert key.valid_until is not None and key.retired_because == "device revoked"
    assert enrolment.reinstate_device("CAM-1", by=ADMIN)
    fresh = Camera("CAM-1")
    assert _enrol(server, fresh, enrolment.issue_code("CAM-1", by=ADMIN).code).status_code == 201


def test_peers_are_the_other_enrolled_cameras(server: str, people: tuple) -> None:
    from overt.evidence.models import Device

    Device.objects.create(serial="CAM-2")
    Device.objects.create(serial="CAM-3")
    cams = {s: Camera(s) for s in ("CAM-1", "CAM-2", "CAM-3")}
    tokens = {
        s: _enrol(server, c, enrolment.issue_code(s, by=ADMIN).code).json()["device_token"]
        for s, c in cams.items()
    }
    enrolment.revoke_device("CAM-3", by=ADMIN)
    answer = requests.get(
        f"{server}/api/device/peers/",
        headers={"Authorization": f"Bearer {tokens['CAM-1']}"},
        timeout=30,
    )
    assert answer.json() == {
        "peers": [
            {
                "serial": "CAM-2",
                "key_id": cams["CAM-2"].key_id,
                "public_key": base64.b64encode(cams["CAM-2"].public_key).decode(),
            }
        ]
    }
    assert requests.post(f"{server}/api/device/peers/", timeout=30).status_code == 405


def test_the_cli_prints_the_contract(overt_cli) -> None:  # type: ignore[no-untyped-def]
    assert overt_cli("device", "add", "CAM-7", "--model", "Head cam").returncode == 0
    out = overt_cli("device", "enrol", "CAM-7", "--json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert list(body) == ["serial", "code", "expires_at"] and body["serial"] == "CAM-7"
    assert len(body["code"]) == 14 and body["expires_at"].endswith("Z")
    unknown = overt_cli("device", "enrol", "NOPE", "--json")
    assert unknown.returncode != 0 and "overt device add" in unknown.stderr
    revoked = overt_cli("device", "revoke", "CAM-7")
    assert revoked.returncode == 0 and "0 token(s) revoked" in revoked.stdout
    assert "1 enrolment code(s) voided" in revoked.stdout
    refused = overt_cli("device", "enrol", "CAM-7")
    assert refused.returncode != 0 and "revoked" in refused.stderr
    assert overt_cli("device", "reinstate", "CAM-7").stdout.strip() == "device CAM-7 reinstated"
    assert overt_cli("device", "keys", "CAM-7", "--json").stdout.strip() == "[]"


def test_the_enrolment_page_makes_codes_and_revokes(server: str, people: tuple) -> None:
    from django.test import Client

    from overt.testing.access import make_user, sign_in

    admin = sign_in(Client(), make_user("adm", "admin"))
    page = admin.get("/devices/enrolment/")
    assert page.status_code == 200 and "CAM-1" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    made = admin.post("/devices/enrolment/", {"device": "CAM-1", "action": "code"})
    html = made.content.decode()
    code = html.split('<code id="enrolment-code">', 1)[1].split("<", 1)[0]
    camera = Camera("CAM-1")
    assert _enrol(server, camera, code).status_code == 201
    listed = admin.get("/devices/enrolment/").content.decode()
    assert camera.key_id in listed and code not in listed
    revoked = admin.post("/devices/enrolment/", {"device": "CAM-1", "action": "revoke"})
    assert "CAM-1 revoked: 1 token(s), 1 key(s) retired" in revoked.content.decode()
    refused = admin.post("/devices/enrolment/", {"device": "CAM-1", "action": "code"})
    assert refused.status_code == 403 and "revoked" in refused.content.decode()
    assert (
        admin.post("/devices/enrolment/", {"device": "NOPE", "action": "code"}).status_code == 404
    )
    viewer = sign_in(Client(), make_user("officer", "officer"))
    assert viewer.get("/devices/enrolment/").status_code == 403
