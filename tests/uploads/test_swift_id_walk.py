"""ID walking over the Swift API of an Axis Body Worn System (issue 11, "make the
probing permanent"; the Django routes are walked in tests/access/test_id_walk.py).

The Axis model has one account per overt instance (`AUTH_<user>`, one key): every Body
Worn System that connects shares it, so there is no second system or camera with its
own credentials to walk from. What can be walked is everything that is not that
account's valid token: no token, a forged one, one signed for another user or under an
earlier key, an expired one, a tus device token, a person's API token or session, and
the valid token aimed at another account. For every container and object the system
made (System, Users, Devices, an open recording, a complete one), each asks with GET,
HEAD, PUT, POST and DELETE, and for the account's listing: the answer must be the one
for a container that does not exist, name nothing, and change nothing.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
from django.conf import settings
from django.core import signing
from django.test import Client
from swiftclient import client as swift

from overt.access import grants
from overt.access.matrix import Role
from overt.custody.services import Actor
from overt.testing.access import make_user, sign_in
from overt.uploads.axis import protocol
from overt.uploads.models import AxisContainer, AxisObject, Quarantined
from overt.uploads.tokens import issue_token

START = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
OPEN = "MP100_CAM-1_20240501_140000"
DONE = "MP100_CAM-1_20240501_150000"
NOWHERE = "MP100_CAM-1_19990101_000000"
SYSTEM_ID = "0b5e2a10-walk-4c3d-8e9f-0a1b2c3d4e5f"
USER_UUID = "6f1c9f5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
VOLATILE = {"date", "server"}
TELLING = ("x-account-", "x-container-", "x-object-", "etag", "x-timestamp")


class _Expired(signing.TimestampSigner):
    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - protocol.TOKEN_TTL_S - 60)


def _scene(server: str, unique_bytes) -> tuple[str, str, dict[str, bytes]]:  # type: ignore[no-untyped-def]
    """What a Body Worn System leaves: its system object, a user, a camera, an open
    recording (a staged clip and a bookmark) and a complete one."""
    url, token = swift.get_auth(f"{server}/auth/v1.0", "axis", protocol.axis_key(), auth_version="1")
    swift.put_container(url, token, "System")
    swift.put_object(url, token, "System", SYSTEM_ID, contents=b"",
                     headers={"X-Object-Meta-Systemname": "BWS Nord"})  # fmt: skip
    swift.put_container(url, token, "Users")
    swift.put_object(url, token, "Users", USER_UUID, contents=b"", headers={
        "X-Object-Meta-Name": "PC Test", "X-Object-Meta-Active": "True",
        "X-Object-Meta-Userid": "MP100"})  # fmt: skip
    swift.put_container(url, token, "Devices")
    swift.put_object(url, token, "Devices", "CAM-1", contents=b"", headers={
        "X-Object-Meta-Name": "Cam", "X-Object-Meta-Model": "W110",
        "X-Object-Meta-Active": "True"})  # fmt: skip
    epoch = int(START.timestamp())
    clips = {}
    for container, offset in ((OPEN, 0), (DONE, 3600)):
        swift.put_container(url, token, container, headers={
            "X-Container-Meta-Userid": "MP100", "X-Container-Meta-Bwcserialnumber": "CAM-1",
            "X-Container-Meta-Triggerontime": str(epoch + offset)})  # fmt: skip
        clips[container] = unique_bytes(20_000 + offset)
        swift.put_object(url, token, container, "clip_1.mkv", contents=clips[container], headers={
            "X-Object-Meta-Starttime": str(epoch + offset),
            "X-Object-Meta-Stoptime": str(epoch + offset + 30)})  # fmt: skip
    swift.put_object(url, token, OPEN, f"bookmark_{epoch}_0", contents=b"walked",
                     headers={"X-Object-Meta-Starttime": "2024-05-01T14:00:05Z"})  # fmt: skip
    swift.post_container(url, token, DONE, headers={"X-Container-Meta-Status": "Complete"})
    assert AxisContainer.objects.get(name=DONE).status != AxisContainer.Status.OPEN
    return url, token, clips


def _walkers(token: str) -> dict[str, tuple[str, dict[str, str], dict[str, str]]]:
    """name: (account, headers, cookies) of everything that is not the account's token."""
    account = protocol.account_name()
    tag = protocol._key_tag()
    salt = "overt.uploads.axis"
    signer = signing.TimestampSigner(salt=salt)
    manager = make_user("walker-manager", Role.EVIDENCE_MANAGER)
    admin = make_user("walker-admin", Role.ADMIN)
    _, api_token = grants.create_token(manager, "walk", ["list"], by=Actor.system("test"))
    device_token = issue_token("CAM-1", dock=True, created_by="test")
    session = {settings.SESSION_COOKIE_NAME: sign_in(Client(), admin).cookies[
        settings.SESSION_COOKIE_NAME].value}  # fmt: skip
    return {
        "no token": (account, {}, {}),
        "forged token": (account, {"X-Auth-Token": "forged:token:value"}, {}),
        "another user's token": (account, {"X-Auth-Token": signer.sign(f"someone.{tag}")}, {}),
        "earlier key's token": (account, {"X-Auth-Token": signer.sign("axis." + "0" * 16)}, {}),
        "expired token": (account, {"X-Auth-Token": _Expired(salt=salt).sign(f"axis.{tag}")}, {}),
        "tus device token": (account, _both(device_token), {}),
        "person's API token": (account, _both(api_token), {}),
        "person's session": (account, {}, session),
        "token, other account": ("AUTH_other", {"X-Auth-Token": token}, {}),
    }


def _both(token: str) -> dict[str, str]:
    return {"X-Auth-Token": token, "Authorization": f"Bearer {token}"}


def _paths(account: str) -> list[tuple[str, str]]:
    """(a path the system made, the same shape naming nothing)."""
    base = f"/swift/v1/{account}"
    made = ["System", "Users", "Devices", OPEN, DONE]
    pairs = [(f"{base}/{c}", f"{base}/{NOWHERE}") for c in made]
    objects = [f"System/{SYSTEM_ID}", "System/Capabilities.json", f"Users/{USER_UUID}",
               "Devices/CAM-1", f"{OPEN}/clip_1.mkv", f"{DONE}/clip_1.mkv"]  # fmt: skip
    pairs += [(f"{base}/{o}", f"{base}/{NOWHERE}/{o.split('/', 1)[1]}") for o in objects]
    return pairs


def _answer(response: requests.Response) -> tuple:
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() not in VOLATILE}
    return response.status_code, headers, response.content


def _state() -> tuple:
    containers = sorted(AxisContainer.objects.values_list("name", "status", "metadata"))
    objects = []
    for obj in AxisObject.objects.order_by("container__name", "name"):
        staged = Path(obj.staged_path) if obj.staged_path else None
        kept = staged is not None and staged.exists()  # a complete one's clip left staging
        on_disk = hashlib.sha256(staged.read_bytes()).hexdigest() if kept else None  # type: ignore[union-attr]
        objects.append((obj.container.name, obj.name, obj.md5, obj.size, obj.metadata, on_disk))
    return containers, objects, Quarantined.objects.count()


def test_nothing_but_the_account_token_learns_of_or_changes_a_container_or_object(
    server, people, unique_bytes
) -> None:
    url, token, clips = _scene(server, unique_bytes)
    before = _state()
    failures = []
    for name, (account, headers, cookies) in _walkers(token).items():

        def call(method: str, path: str, headers=headers, cookies=cookies, **extra: str) -> tuple:  # type: ignore[no-untyped-def]
            body = b"overwritten" if method == "PUT" and path.count("/") > 4 else None
            return _answer(requests.request(method, server + path, data=body, timeout=30,
                           headers={**headers, **extra}, cookies=cookies))  # fmt: skip

        for real, missing in _paths(account):
            for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
                meta = {"X-Container-Meta-Status": "Complete", "X-Object-Meta-Name": "x"}
                seen, nothing = call(method, real, **meta), call(method, missing, **meta)
                if 200 <= seen[0] < 300 or seen[0] != nothing[0] or seen[2] != nothing[2]:
                    failures.append(f"{name} {method} {real}: {seen[:2]} vs {nothing[:2]}")
                told = [h for h in seen[1] if h.startswith(TELLING)]
                names = [n for n in (OPEN, DONE, SYSTEM_ID, USER_UUID) if n.encode() in seen[2]]
                if told or names:
                    failures.append(f"{name} {method} {real} tells {told} {names}")
            # The account itself has no missing twin to compare with: it must list nothing.
            for method, query in (("GET", ""), ("GET", "?format=json"), ("HEAD", "")):
                listed = call(method, f"/swift/v1/{account}{query}")
                told = [h for h in listed[1] if h.startswith(TELLING)]
                if 200 <= listed[0] < 300 or OPEN.encode() in listed[2] or told:
                    failures.append(f"{name} lists the account: {listed[:2]}")
    assert not failures, "\n".join(failures)
    assert _state() == before
    # The walk was of real things: the account's token still reads them as they were.
    assert swift.get_object(url, token, OPEN, "clip_1.mkv")[1] == clips[OPEN]
    assert {row["name"] for row in swift.get_account(url, token)[1]} >= {OPEN, DONE}


def test_the_account_token_cannot_delete_or_overwrite_what_it_sent(
    server, people, unique_bytes
) -> None:
    """The one account may read its own back, but evidence stays as it arrived: DELETE
    answers exactly as for a missing container or object, and a PUT over a complete
    recording's clip is 409."""
    url, token, clips = _scene(server, unique_bytes)
    auth = {"X-Auth-Token": token}
    before = _state()
    for path in (DONE, OPEN, f"{DONE}/clip_1.mkv", f"{OPEN}/clip_1.mkv", f"Users/{USER_UUID}"):
        seen = requests.delete(f"{url}/{path}", headers=auth, timeout=30)
        twin = f"{NOWHERE}/{path.partition('/')[2]}" if "/" in path else NOWHERE
        missing = requests.delete(f"{url}/{twin}", headers=auth, timeout=30)
        assert (seen.status_code, seen.content) == (missing.status_code, missing.content), path
        assert seen.status_code == 403
    overwrite = requests.put(f"{url}/{DONE}/clip_1.mkv", data=b"other", headers=auth, timeout=30)
    assert overwrite.status_code == 409, overwrite.text
    assert _state() == before
    assert swift.get_object(url, token, DONE, "clip_1.mkv")[1] == clips[DONE]
