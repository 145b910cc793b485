"""ID walking over tus (/files/), which only the ASGI app serves (issue 11, "make the
probing permanent"; the Django routes are walked in tests/access/test_id_walk.py).

A camera and an evidence manager each own uploads in every state a walker could meet:
receiving (part sent), finished (handed to ingest), quarantined (declared hash wrong)
and terminated. Every other principal tus might see (anonymous, a session and an API
token of each role and of no role, a Django superuser, another camera, a dock, and each
owner for the other's uploads) asks about each of them with every method, and about an id that names
nothing: the two answers must be the same (status, headers, body), carry nothing of the
upload (offset, length, metadata, outcome), and leave the upload exactly as it was.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from overt.access import grants
from overt.access.matrix import Role
from overt.custody.services import Actor
from overt.evidence.models import Device as DeviceRow
from overt.testing.access import make_user, sign_in
from overt.uploads import storage
from overt.uploads.models import Upload
from overt.uploads.tokens import issue_token

from .conftest import TUS, metadata

# Response headers that would tell a walker something about an upload.
TELLING = ("upload-", "overt-", "location", "tus-max-size")
VOLATILE = {"date", "server"}


@dataclass
class Principal:
    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    def call(
        self, server: str, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> requests.Response:
        return requests.request(
            method,
            server + path,
            data=body,
            headers={**TUS, **self.headers, **headers},
            cookies=self.cookies,
            timeout=30,
        )


def _session(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {settings.SESSION_COOKIE_NAME: sign_in(Client(), user).cookies[
        settings.SESSION_COOKIE_NAME].value}  # fmt: skip


def _device(serial: str, *, dock: bool = False) -> Principal:
    DeviceRow.objects.get_or_create(serial=serial, defaults={"model": "Test Cam"})
    token = issue_token(serial, dock=dock, created_by="test")
    return Principal(serial, headers={"Authorization": f"Bearer {token}"})


def _principals() -> dict[str, Principal]:
    found = {"anonymous": Principal("anonymous")}
    for role in [None, *Role]:
        label = str(role or "no-role")
        user = make_user(f"walker-{label}", role)
        found[f"session:{label}"] = Principal(label, cookies=_session(user))
        _, token = grants.create_token(user, "walk", ["list"], by=Actor.system("test"))
        found[f"api-token:{label}"] = Principal(label, headers={"Authorization": f"Bearer {token}"})
    # Django's superuser flag (overt's roles know no such thing) gives no other's upload.
    root = get_user_model().objects.create_superuser("root", password=None)
    found["superuser"] = Principal("root", cookies=_session(root))
    found["other-camera"] = _device("CAM-2")
    found["dock"] = _device("DOCK-1", dock=True)
    found["camera"] = _device("CAM-1")
    keeper = make_user("keeper", Role.EVIDENCE_MANAGER)
    found["keeper"] = Principal("keeper", cookies=_session(keeper))
    return found


def _create(server: str, owner: Principal, data: bytes, **meta: str) -> str:
    described = metadata(officer="MP100", device="CAM-1", **meta)
    response = owner.call(
        server, "POST", "/files/", **{"Upload-Length": str(len(data)), "Upload-Metadata": described}
    )
    assert response.status_code == 201, response.text
    return response.headers["Location"]


def _send(server: str, owner: Principal, location: str, data: bytes) -> requests.Response:
    return requests.patch(
        server + location,
        data=data,
        headers={
            **TUS,
            **owner.headers,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
        cookies=owner.cookies,
        timeout=60,
    )


def _uploads(server: str, who: dict[str, Principal], unique_bytes) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(owner, upload id) of an upload in each state the walk visits."""
    camera, keeper = who["camera"], who["keeper"]
    made: dict[str, tuple[str, str]] = {}
    for owner in (camera, keeper):
        data = unique_bytes(40_000 + len(owner.name))
        location = _create(server, owner, data + b"more to come")
        assert _send(server, owner, location, data).status_code == 204
        made[f"receiving:{owner.name}"] = (owner.name, location)
    data = unique_bytes(30_000)
    location = _create(server, camera, data, sha256=hashlib.sha256(data).hexdigest())
    assert _send(server, camera, location, data).status_code in (204, 422)
    made["finished"] = ("CAM-1", location)
    data = unique_bytes(20_000)
    location = _create(server, camera, data, sha256=hashlib.sha256(b"other").hexdigest())
    assert _send(server, camera, location, data).status_code == 460
    made["quarantined"] = ("CAM-1", location)
    location = _create(server, camera, unique_bytes(10_000))
    assert camera.call(server, "DELETE", location).status_code == 204
    made["terminated"] = ("CAM-1", location)
    return made


def _snapshot(upload_id: str) -> tuple:
    row = Upload.objects.get(pk=upload_id)
    path = storage.tus_path(upload_id)
    on_disk = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    return (row.status, row.offset, row.length, row.lock_owner, row.lock_expires_at,
            row.expires_at, row.finished_at, row.sha256, row.original_id, on_disk)  # fmt: skip


def _answer(response: requests.Response) -> tuple:
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() not in VOLATILE}
    return response.status_code, headers, response.content


def _calls(offset: int) -> list[tuple[str, dict[str, str]]]:
    patch = {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    return [
        ("HEAD", {}),
        ("GET", {}),
        ("PATCH", patch),
        ("DELETE", {}),
        ("POST", {**patch, "X-HTTP-Method-Override": "PATCH"}),
        ("POST", {"X-HTTP-Method-Override": "DELETE"}),
        ("POST", {"X-HTTP-Method-Override": "HEAD"}),
    ]


def test_no_principal_learns_of_or_touches_an_upload_it_does_not_own(
    server, people, unique_bytes, caplog
) -> None:
    who = _principals()
    targets = _uploads(server, who, unique_bytes)
    before = {key: _snapshot(loc.rsplit("/", 1)[1]) for key, (_, loc) in targets.items()}
    caplog.set_level(logging.WARNING, logger="overt.uploads.services")
    failures = []
    for key, (owner, location) in targets.items():
        offset = before[key][1]
        for name, walker in who.items():
            if walker.name == owner:
                continue
            for method, headers in _calls(offset):
                body = b"walked bytes" if "Upload-Offset" in headers else None
                missing = f"/files/{secrets.token_hex(16)}"
                seen = _answer(walker.call(server, method, location, body, **headers))
                nothing = _answer(walker.call(server, method, missing, body, **headers))
                label = f"{name} {method} {headers.get('X-HTTP-Method-Override', '')} {key}"
                if 200 <= seen[0] < 300 or seen != nothing:
                    failures.append(f"{label}: {seen[:2]} vs missing {nothing[:2]}")
                told = [h for h in seen[1] if h.startswith(TELLING)]
                if told:
                    failures.append(f"{label} tells {told}")
    assert not failures, "\n".join(failures)
    # A real id in the wrong hands means it leaked: each such ask is logged (on the server
    # only), with who asked; an id that names nothing is not.
    refused = [r.getMessage() for r in caplog.records if "not its owner" in r.getMessage()]
    assert any("device:CAM-2" in m and targets["receiving:CAM-1"][1][7:] in m for m in refused)
    assert any("user:walker-evidence-manager" in m for m in refused)
    real = {loc.rsplit("/", 1)[1] for _, loc in targets.values()}
    assert all(m.split()[1] in real for m in refused)
    after = {key: _snapshot(loc.rsplit("/", 1)[1]) for key, (_, loc) in targets.items()}
    assert after == before

    # The walk was of real uploads: their owners still see them, as they were left.
    camera, keeper = who["camera"], who["keeper"]
    for owner, key in ((camera, "receiving:CAM-1"), (keeper, "receiving:keeper")):
        own = owner.call(server, "HEAD", targets[key][1])
        assert own.status_code == 200
        assert own.headers["Upload-Offset"] == str(before[key][1])
    assert camera.call(server, "HEAD", targets["quarantined"][1]).headers[
        "Overt-Upload-Status"] == "quarantined"  # fmt: skip
    assert camera.call(server, "HEAD", targets["terminated"][1]).status_code == 410


def test_no_principal_but_the_camera_and_a_dock_reads_a_capture_manifest(server: str) -> None:
    """GET /api/capture/manifests/{sha256}/ (tests/access/test_id_walk.py sends it here):
    another camera, every session and API token and nobody get what an unknown hash gets."""
    from overt.ingest.models import CaptureManifest

    who = _principals()
    sha = hashlib.sha256(b"walked manifest").hexdigest()
    CaptureManifest.objects.create(
        sha256=sha, device=DeviceRow.objects.get(serial="CAM-1"), body=b"{}", signature=b"",
        signature_ok=False, received_by="walk",
    )  # fmt: skip
    path = "/api/capture/manifests/{}/"
    for owner in ("camera", "dock"):  # the walk's objects are real: these may read it
        assert who[owner].call(server, "GET", path.format(sha)).json()["manifest_sha256"] == sha
    for name, principal in who.items():
        if name in ("camera", "dock"):
            continue
        seen = principal.call(server, "GET", path.format(sha))
        missing = principal.call(server, "GET", path.format("0" * 64))
        assert seen.status_code >= 400 and seen.status_code == missing.status_code, name
        assert sha not in seen.text and "CAM-1" not in seen.text, name
