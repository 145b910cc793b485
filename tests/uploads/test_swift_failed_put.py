"""A Swift object PUT that fails once its bytes are staged leaves nothing behind: no file
in axis/ that no object row names, and no row (issue 12 item 3). The sender still has
the bytes and retries; a retry then stores them as usual."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from swiftclient import client as swift
from swiftclient.exceptions import ClientException

from overt.uploads import storage
from overt.uploads.axis.protocol import axis_key
from overt.uploads.models import AxisObject

RECORDING = "MP100_CAM-1_20261120T140000"


@pytest.fixture
def conn(server, people) -> tuple[str, str]:
    url, token = swift.get_auth(f"{server}/auth/v1.0", "axis", axis_key(), auth_version="1")
    swift.put_container(url, token, RECORDING)
    return url, token


def staged() -> set[Path]:
    return set(storage.folder("axis").glob("*.part"))


def test_a_refused_bookmark_leaves_no_staged_file(conn) -> None:
    """A bookmark that is not UTF-8 is refused after its body is staged (400)."""
    url, token = conn
    before = staged()
    with pytest.raises(ClientException) as exc:
        swift.put_object(url, token, RECORDING, "bookmark_1.txt", contents=b"\xff\xfe not text")
    assert exc.value.http_status == 400
    assert "not UTF-8" in exc.value.http_response_content.decode()
    assert staged() == before
    assert not AxisObject.objects.filter(name="bookmark_1.txt").exists()


def test_an_unexpected_failure_after_staging_a_clip_leaves_nothing(conn, monkeypatch) -> None:
    """The database refuses the object's row (a fault, injected): 500 in the protocol's
    form, no row, and the staged clip is gone; the retry is stored."""
    url, token = conn
    before = staged()
    real_save = AxisObject.save

    def failing_save(self: AxisObject, *args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(AxisObject, "save", failing_save)
    body = b"a clip whose row could not be written"
    response = requests.put(
        f"{url}/{RECORDING}/20261120_140000_1.mkv",
        data=body,
        headers={"X-Auth-Token": token},
        timeout=30,
    )
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "nothing was stored" in response.json()["detail"]
    assert staged() == before
    assert not AxisObject.objects.filter(name="20261120_140000_1.mkv").exists()

    monkeypatch.setattr(AxisObject, "save", real_save)
    swift.put_object(url, token, RECORDING, "20261120_140000_1.mkv", contents=body)
    kept = AxisObject.objects.get(name="20261120_140000_1.mkv")
    assert Path(kept.staged_path).read_bytes() == body
    assert staged() == before | {Path(kept.staged_path)}
