"""Real tus clients: tuspy against the app, and against a real `overt serve` process that
is killed (SIGKILL) mid-upload and restarted."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

import requests
from tusclient import client as tus_client
from tusclient.storage.filestorage import FileStorage

from overt.custody.models import CustodyEntry
from overt.evidence.models import Original
from overt.evidence.store import get_store

from .conftest import TUS
from .test_tus_bad_input import RawPatch


def _file(tmp_path: Path, size: int, seed: bytes) -> Path:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest() * 64
        counter += 1
    path = tmp_path / "footage.mp4"
    path.write_bytes(bytes(out[:size]))
    return path


def test_tuspy_uploads_in_checksummed_chunks(server, camera, tmp_path) -> None:
    path = _file(tmp_path, (3 << 20) + 12345, b"tuspy")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    uploader = tus_client.TusClient(f"{server}/files/", headers=camera.auth).uploader(
        file_path=str(path),
        chunk_size=1 << 20,
        upload_checksum=True,  # sha1 per PATCH
        metadata={"filename": "footage.mp4", "officer": "MP100", "sha256": digest},
    )
    uploader.upload()
    assert uploader.offset == path.stat().st_size
    original = Original.objects.get(sha256=digest)
    assert original.filename == "footage.mp4"
    assert b"".join(get_store().read_range(digest)) == path.read_bytes()
    ingest = CustodyEntry.objects.get(action="ingest", object_sha256=digest)
    assert json.loads(ingest.entry)["actor"] == {"kind": "device", "id": "CAM-1"}
    # HEAD through the client's own URL shows the finished upload.
    final = requests.head(uploader.url, headers={**TUS, **camera.auth}, timeout=10)
    assert final.headers["Overt-Upload-Status"] == "stored"


def test_tuspy_resumes_after_the_server_is_killed_mid_upload(
    overt_process, registered, tmp_path
) -> None:
    device = registered("CAM-9")
    path = _file(tmp_path, 6 << 20, b"restart")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    url_storage = FileStorage(str(tmp_path / "tus-urls.json"))

    def uploader():  # a fresh client each time, as a dock would be after a reboot
        return tus_client.TusClient(f"{overt_process.url}/files/", headers=device.auth).uploader(
            file_path=str(path),
            chunk_size=1 << 20,
            metadata={"filename": "restart.mp4", "officer": "MP100", "sha256": digest},
            store_url=True,
            url_storage=url_storage,
        )

    overt_process.start()
    first = uploader()
    first.upload(stop_at=3 << 20)
    assert first.offset == 3 << 20
    location = "/files/" + first.url.rsplit("/", 1)[1]
    part = overt_process.home / "uploads" / "tus" / f"{first.url.rsplit('/', 1)[1]}.part"

    # A fourth PATCH is under way when the server dies: 2 of its 3 MiB have arrived.
    raw = RawPatch(overt_process.url, device, location, 3 << 20, 3 << 20)
    raw.send(data[3 << 20 : 5 << 20])
    deadline = time.monotonic() + 30
    while part.stat().st_size < 4 << 20:
        assert time.monotonic() < deadline, "the server never wrote the fourth chunk"
        time.sleep(0.02)
    overt_process.kill()
    raw.close()

    overt_process.start()
    offset = requests.head(
        overt_process.url + location, headers={**TUS, **device.auth}, timeout=10
    ).headers["Upload-Offset"]
    assert offset == str(3 << 20)  # only what was fsynced and recorded before the kill

    second = uploader()
    assert second.url == first.url and second.offset == 3 << 20
    second.upload()
    overt_process.stop()

    db = sqlite3.connect(overt_process.home / "overt.sqlite3")
    [(sha, size, source)] = db.execute("SELECT sha256, size, source FROM evidence_original")
    assert (sha, size, source) == (digest, len(data), "upload")
    stored = overt_process.home / "store" / "objects" / sha[:2] / sha[2:4] / sha
    assert stored.read_bytes() == data
    [(entry,)] = db.execute("SELECT entry FROM custody_custodyentry WHERE action = 'ingest'")
    assert json.loads(entry)["actor"] == {"kind": "device", "id": "CAM-9"}
