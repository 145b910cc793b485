"""The Swift subset of the Axis Body Worn Integration API, driven by OpenStack's own
python-swiftclient: auth, containers, objects, metadata, and the spec's error codes."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from swiftclient import client as swift
from swiftclient.exceptions import ClientException

from overt.evidence.models import Device, Officer
from overt.uploads import storage
from overt.uploads.axis.protocol import axis_key
from overt.uploads.models import AxisContainer, AxisObject, Quarantined

from .conftest import create
from .test_tus_bad_input import RawPatch, no_room

USER_UUID = "6f1c9f5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def conn(server) -> tuple[str, str]:
    url, token = swift.get_auth(f"{server}/auth/v1.0", "axis", axis_key(), auth_version="1")
    assert url == f"{server}/swift/v1/AUTH_axis"
    return url, token


def _status(exc: pytest.ExceptionInfo) -> int:
    return exc.value.http_status  # type: ignore[attr-defined]


def test_auth_gives_token_and_storage_url_and_refuses_bad_keys(server) -> None:
    with pytest.raises(ClientException) as bad:
        swift.get_auth(f"{server}/auth/v1.0", "axis", "wrong", auth_version="1")
    assert _status(bad) == 401
    with pytest.raises(ClientException) as other_user:
        swift.get_auth(f"{server}/auth/v1.0", "someone", axis_key(), auth_version="1")
    assert _status(other_user) == 401
    bare = requests.get(f"{server}/auth/v1.0", timeout=10)
    assert bare.status_code == 401 and bare.headers["Content-Type"] == "application/problem+json"


def test_calls_without_a_valid_token_are_401(server, conn) -> None:
    url, _ = conn
    for token in ("", "forged:token:value"):
        with pytest.raises(ClientException) as exc:
            swift.put_container(url, token, "Users")
        assert _status(exc) == 401
    with pytest.raises(ClientException) as put:
        swift.put_object(url, "nope", "Users", "x", contents=b"")
    assert _status(put) == 401
    with pytest.raises(ClientException) as wrong_account:
        swift.head_container(url.replace("AUTH_axis", "AUTH_other"), conn[1], "Users")
    assert _status(wrong_account) == 403


def test_capability_json_with_md5_etag(server, conn) -> None:
    url, token = conn
    # The spec's name first; the name of its early versions still answers.
    assert [row["name"] for row in swift.get_container(url, token, "System")[1]] == [
        "Capabilities.json"
    ]
    for name in ("Capabilities.json", "Capability.json"):
        headers, body = swift.get_object(url, token, "System", name)
        assert headers["etag"] == hashlib.md5(body).hexdigest()
        # The spec's naming rule: Store* under "Store", Store+Read under "StoreAndRead".
        assert json.loads(body) == {
            "Store": {
                "StoreBookmarks": True,
                "StoreGNSSTrackRecording": True,
                "StoreSignedVideo": True,
                "StoreUserIDKey": True,
            },
            "StoreAndRead": {"StoreReadSystemID": True},
        }
    for name in ("Capabilities.json", "Capability.json"):
        with pytest.raises(ClientException) as exc:
            swift.put_object(url, token, "System", name, contents=b"{}")
        assert _status(exc) == 403


def test_system_id_is_stored_and_read_back(server, conn) -> None:
    url, token = conn
    swift.put_container(url, token, "System")
    system_id = "0d9a1f62-55aa-4b1c-9d3e-7f00aa11bb22"
    swift.put_object(
        url,
        token,
        "System",
        system_id,
        contents=b"",
        headers={"X-Object-Meta-Connectionid": "conn-1", "X-Object-Meta-Systemname": "Site A"},
    )
    headers, _ = swift.get_object(url, token, "System", system_id)
    assert headers["x-object-meta-connectionid"] == "conn-1"
    assert headers["x-object-meta-systemname"] == quote("Site A", safe=" ")


def test_users_and_devices_become_officers_and_devices(server, conn) -> None:
    url, token = conn
    swift.put_container(url, token, "Users")
    swift.put_object(
        url,
        token,
        "Users",
        USER_UUID,
        contents=b"",
        headers={
            "X-Object-Meta-Name": quote("PC Åsa Öberg"),
            "X-Object-Meta-Userid": "MP4121",
            "X-Object-Meta-Active": "True",
        },
    )
    officer = Officer.objects.get(number="MP4121")
    assert officer.name == "PC Åsa Öberg" and officer.active
    assert AxisObject.objects.get(name=USER_UUID).officer == officer

    swift.post_object(
        url,
        token,
        "Users",
        USER_UUID,
        headers={
            "X-Object-Meta-Name": "Sgt%20Oberg",
            "X-Object-Meta-Userid": "MP4121",
            "X-Object-Meta-Active": "False",
        },
    )
    officer.refresh_from_db()
    assert (officer.name, officer.active) == ("Sgt Oberg", False)

    swift.put_container(url, token, "Devices")
    swift.put_object(
        url,
        token,
        "Devices",
        "B8A44F000001",
        contents=b"",
        headers={"X-Object-Meta-Model": "W110", "X-Object-Meta-Name": "Camera%201"},
    )
    assert Device.objects.get(serial="B8A44F000001").model == "W110"


def test_unknown_people_are_402_when_overt_does_not_register_them(
    server, conn, settings_env
) -> None:
    url, token = conn
    settings_env(axis_register_people=False)
    with pytest.raises(ClientException) as user:
        swift.put_object(
            url, token, "Users", USER_UUID, contents=b"", headers={"X-Object-Meta-Userid": "MP777"}
        )
    assert _status(user) == 402
    with pytest.raises(ClientException) as camera:
        swift.put_object(url, token, "Devices", "UNKNOWN-1", contents=b"")
    assert _status(camera) == 402
    Officer.objects.create(number="MP777", name="Known")
    swift.put_object(
        url, token, "Users", USER_UUID, contents=b"", headers={"X-Object-Meta-Userid": "MP777"}
    )
    assert AxisObject.objects.get(name=USER_UUID).officer.number == "MP777"


def test_recording_metadata_errors_are_400(server, conn, people) -> None:
    url, token = conn
    bad = [
        (
            {"X-Container-Meta-Userid": "nobody", "X-Container-Meta-Bwcserialnumber": "CAM-1"},
            "nobody_CAM-1_20261120T140000",
        ),
        (
            {"X-Container-Meta-Userid": "MP100", "X-Container-Meta-Bwcserialnumber": "GHOST"},
            "MP100_GHOST_20261120T140000",
        ),
        (
            {
                "X-Container-Meta-Userid": "MP100",
                "X-Container-Meta-Bwcserialnumber": "CAM-1",
                "X-Container-Meta-Triggerontime": "99999999999999",
            },
            "MP100_CAM-1_far",
        ),
        (
            {
                "X-Container-Meta-Userid": "MP100",
                "X-Container-Meta-Bwcserialnumber": "CAM-1",
                "X-Container-Meta-Triggerontimeiso": "1970-01-01T00:00:00Z",
            },
            "MP100_CAM-1_1970",
        ),
        (
            {"X-Container-Meta-Userid": "MP100", "X-Container-Meta-Bwcserialnumber": "CAM-1"},
            "wrongname",
        ),
        ({"X-Container-Meta-Status": "Trans%01ferring"}, "MP100_CAM-1_ctrl"),
        ({"X-Container-Meta-Note": "%FF%FE"}, "MP100_CAM-1_utf8"),
    ]
    for headers, name in bad:
        with pytest.raises(ClientException) as exc:
            swift.put_container(url, token, name, headers=headers)
        assert _status(exc) == 400, (name, exc.value)
    assert not AxisContainer.objects.exists()


def test_names_with_traversal_or_control_characters_are_refused(server, conn, people) -> None:
    url, token = conn
    swift.put_container(url, token, "MP100_CAM-1_20261120T140000")
    for name in ("../escape.mp4", "a/../../b.mp4", "a//b.mp4", "bad\x01name.mp4"):
        with pytest.raises(ClientException) as exc:
            swift.put_object(url, token, "MP100_CAM-1_20261120T140000", name, contents=b"x")
        assert _status(exc) == 400, name
    # Encoded, so no client can tidy the dots away before they reach the server.
    for name in ("..%2Fescape.mp4", "a%2F..%2F..%2Fb.mp4", "%2E%2E"):
        response = requests.put(
            f"{url}/MP100_CAM-1_20261120T140000/{name}",
            data=b"x",
            headers={"X-Auth-Token": token},
            timeout=10,
        )
        assert response.status_code == 400, name
    assert set(AxisContainer.objects.values_list("name", flat=True)) == {
        "MP100_CAM-1_20261120T140000"
    }
    for container in ("..", "%2E%2E"):
        response = requests.put(f"{url}/{container}", headers={"X-Auth-Token": token}, timeout=10)
        assert response.status_code in (400, 404), container
    with pytest.raises(ClientException) as missing:
        swift.put_object(url, token, "NoSuchContainer", "a.mp4", contents=b"x")
    assert _status(missing) == 404


def test_clip_with_no_duration_and_encrypted_key_objects_are_400(server, conn, people) -> None:
    url, token = conn
    name = "MP100_CAM-1_20261120T140000"
    swift.put_container(url, token, name)
    with pytest.raises(ClientException) as exc:
        swift.put_object(
            url,
            token,
            name,
            "20261120_140000_1.mkv",
            contents=b"x",
            headers={
                "X-Object-Meta-Starttime": "1795183200",
                "X-Object-Meta-Stoptime": "1795183200",
            },
        )
    assert _status(exc) == 400
    with pytest.raises(ClientException) as key:
        swift.put_object(url, token, name, "20261120_140000_1.key", contents=b"{}")
    assert _status(key) == 400
    assert "encrypt" in key.value.http_response_content.decode()


def test_etag_mismatch_keeps_the_bytes_in_quarantine(server, conn, people) -> None:
    url, token = conn
    name = "MP100_CAM-1_20261120T140000"
    swift.put_container(url, token, name)
    body = b"clip bytes that arrive damaged"
    with pytest.raises(ClientException) as exc:
        swift.put_object(url, token, name, "c.mkv", contents=body, etag="0" * 32)
    assert _status(exc) == 422
    kept = Quarantined.objects.get(reason=Quarantined.Reason.OBJECT_ETAG)
    assert Path(kept.path).read_bytes() == body
    assert not AxisObject.objects.filter(name="c.mkv").exists()
    etag = swift.put_object(
        url, token, name, "c.mkv", contents=body, etag=hashlib.md5(body).hexdigest()
    )
    assert etag == hashlib.md5(body).hexdigest()


def test_back_pressure_507_and_503(server, conn, camera, settings_env, unique_bytes) -> None:
    url, token = conn
    name = "MP100_CAM-1_20261120T140000"
    swift.put_container(url, token, name)

    # Swift uploads and tus uploads share one limit on bytes in flight.
    settings_env(upload_max_concurrent=1)
    data = unique_bytes(3 << 20)
    location = create(url.split("/swift/")[0], camera, len(data)).headers["Location"]
    busy = RawPatch(url.split("/swift/")[0], camera, location, 0, len(data))
    busy.send(data[: 2 << 20])
    part = storage.tus_path(location.rsplit("/", 1)[1])
    deadline = time.monotonic() + 20
    while part.stat().st_size < 1 << 20:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with pytest.raises(ClientException) as busy_exc:
        swift.put_object(url, token, name, "a.mkv", contents=b"x" * 100)
    assert _status(busy_exc) == 503
    assert int(busy_exc.value.http_response_headers["retry-after"]) > 0
    busy.send(data[2 << 20 :])
    busy.response()
    busy.close()

    no_room(settings_env)
    with pytest.raises(ClientException) as full:
        swift.put_object(url, token, name, "a.mkv", contents=b"x" * 100)
    assert _status(full) == 507


def test_evidence_cannot_be_deleted_over_swift(server, conn) -> None:
    url, token = conn
    swift.put_container(url, token, "Users")
    with pytest.raises(ClientException) as exc:
        swift.delete_container(url, token, "Users")
    assert _status(exc) == 403
