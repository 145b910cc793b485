"""The tus 1.0.0 server at /files/: the core protocol, its extensions, the ingest hand-off,
quarantine, termination and expiry, against the real ASGI app."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import requests
from django.utils import timezone

from overt.custody.models import CustodyEntry
from overt.evidence.models import Original
from overt.evidence.store import get_store
from overt.uploads import storage, sweep
from overt.uploads.models import Quarantined, Upload

from .conftest import TUS, create, head, metadata, patch


def _stored_bytes(sha256: str) -> bytes:
    return b"".join(get_store().read_range(sha256))


def _entries(action: str) -> list[dict]:
    return [
        json.loads(e.entry) for e in CustodyEntry.objects.filter(action=action).order_by("index")
    ]


def test_options_discovers_version_extensions_limits_and_checksums(server) -> None:
    response = requests.options(f"{server}/files/", timeout=10)
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    }
    assert int(response.headers["Tus-Max-Size"]) > 0
    assert set(response.headers["Tus-Checksum-Algorithm"].split(",")) == {"sha1", "sha256"}


def test_upload_in_chunks_is_ingested_byte_for_byte_and_attributed(server, camera, clips) -> None:
    data = clips["good"].read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    created = create(
        server,
        camera,
        len(data),
        filename="clip0001.mp4",
        sha256=digest,
        started_at="2026-11-20T14:00:00Z",
    )
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location.startswith("/files/")
    assert "Upload-Expires" in created.headers

    status = head(server, camera, location)
    assert status.status_code == 200
    assert status.headers["Upload-Offset"] == "0"
    assert status.headers["Upload-Length"] == str(len(data))
    assert status.headers["Cache-Control"] == "no-store"
    assert "filename" in status.headers["Upload-Metadata"]

    third = len(data) // 3
    first = patch(server, camera, location, 0, data[:third])
    assert first.status_code == 204, first.text
    assert first.headers["Upload-Offset"] == str(third)
    assert "Upload-Expires" in first.headers
    assert head(server, camera, location).headers["Upload-Offset"] == str(third)

    rest = patch(server, camera, location, third, data[third:])
    assert rest.status_code == 204, rest.text
    assert rest.headers["Upload-Offset"] == str(len(data))
    assert rest.headers["Overt-Upload-Status"] == "stored"
    assert rest.headers["Overt-Sha256"] == digest

    original = Original.objects.get(sha256=digest)
    assert original.source == Original.Source.UPLOAD
    assert original.filename == "clip0001.mp4"
    assert original.playable
    assert original.started_at.isoformat().startswith("2026-11-20T14:00:00")
    assert _stored_bytes(digest) == data
    [entry] = [e for e in _entries("ingest") if e["object"]["sha256"] == digest]
    assert entry["actor"] == {"kind": "device", "id": "CAM-1"}
    assert not storage.tus_path(location.rsplit("/", 1)[1]).exists()

    # A finished upload still answers HEAD, with how it ended.
    done = head(server, camera, location)
    assert done.headers["Upload-Offset"] == str(len(data))
    assert done.headers["Overt-Upload-Status"] == "stored"
    assert done.headers["Overt-Original"] == str(original.pk)


def test_creation_with_upload_and_a_whole_body_checksum(server, camera, unique_bytes) -> None:
    data = unique_bytes(300_000)
    checksum = base64.b64encode(hashlib.sha1(data).digest()).decode()
    response = requests.post(
        f"{server}/files/",
        data=data,
        headers={
            **TUS,
            **camera.auth,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata(officer="MP100", filename="one-go.bin"),
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": f"sha1 {checksum}",
        },
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert response.headers["Upload-Offset"] == str(len(data))
    assert response.headers["Overt-Upload-Status"] == "stored"
    sha = hashlib.sha256(data).hexdigest()
    assert _stored_bytes(sha) == data
    assert not Original.objects.get(sha256=sha).playable  # random bytes: kept, flagged


def test_same_bytes_again_are_a_duplicate(server, camera, unique_bytes) -> None:
    data = unique_bytes(10_000)
    for expected in ("stored", "duplicate"):
        location = create(server, camera, len(data)).headers["Location"]
        done = patch(server, camera, location, 0, data)
        assert done.headers["Overt-Upload-Status"] == expected
    assert Original.objects.filter(sha256=hashlib.sha256(data).hexdigest()).count() == 1


def test_an_empty_upload_completes_at_creation(server, camera) -> None:
    response = create(server, camera, 0, filename="empty.mp4")
    assert response.status_code == 201, response.text
    assert response.headers["Overt-Upload-Status"] in ("stored", "duplicate")
    assert Original.objects.get(sha256=hashlib.sha256(b"").hexdigest()).size == 0


def test_declared_sha256_mismatch_keeps_the_bytes_in_quarantine(
    server, camera, unique_bytes
) -> None:
    data = unique_bytes(50_000)
    wrong = hashlib.sha256(b"something else").hexdigest()
    location = create(server, camera, len(data), sha256=wrong).headers["Location"]
    response = patch(server, camera, location, 0, data)
    assert response.status_code == 460, response.text
    body = response.json()
    assert body["quarantined"] is True
    assert body["declared_sha256"] == wrong
    actual = hashlib.sha256(data).hexdigest()
    assert body["actual_sha256"] == actual
    assert response.headers["Content-Type"] == "application/problem+json"

    assert not Original.objects.filter(sha256=actual).exists()
    upload = Upload.objects.get(pk=location.rsplit("/", 1)[1])
    assert upload.status == Upload.Status.QUARANTINED
    kept = Quarantined.objects.get(upload=upload)
    assert kept.reason == Quarantined.Reason.UPLOAD_SHA256
    assert Path(kept.path).read_bytes() == data
    verify = [e for e in _entries("verify") if e["details"].get("what") == "upload"]
    assert verify[-1]["details"]["ok"] is False
    assert verify[-1]["actor"] == {"kind": "device", "id": "CAM-1"}
    assert head(server, camera, location).headers["Overt-Upload-Status"] == "quarantined"


def test_chunk_checksum_mismatch_is_460_and_the_chunk_is_kept_aside(
    server, camera, unique_bytes
) -> None:
    data = unique_bytes(40_000)
    location = create(server, camera, len(data)).headers["Location"]
    assert patch(server, camera, location, 0, data[:10_000]).status_code == 204
    bad = base64.b64encode(hashlib.sha256(b"not this").digest()).decode()
    response = patch(
        server, camera, location, 10_000, data[10_000:20_000], Upload_Checksum=f"sha256 {bad}"
    )
    assert response.status_code == 460, response.text
    assert head(server, camera, location).headers["Upload-Offset"] == "10000"
    kept = Quarantined.objects.get(reason=Quarantined.Reason.CHUNK_CHECKSUM)
    assert Path(kept.path).read_bytes() == data[10_000:20_000]
    assert kept.upload_offset == 10_000

    good = base64.b64encode(hashlib.sha256(data[10_000:]).digest()).decode()
    done = patch(server, camera, location, 10_000, data[10_000:], Upload_Checksum=f"sha256 {good}")
    assert done.status_code == 204, done.text
    assert _stored_bytes(hashlib.sha256(data).hexdigest()) == data


def test_unsupported_checksum_algorithm_is_400(server, camera) -> None:
    location = create(server, camera, 4).headers["Location"]
    response = patch(server, camera, location, 0, b"abcd", Upload_Checksum="md5 AAAA")
    assert response.status_code == 400
    assert "not supported" in response.json()["detail"]
    assert head(server, camera, location).headers["Upload-Offset"] == "0"


def test_termination_removes_the_partial_file_and_logs_it(server, camera, unique_bytes) -> None:
    data = unique_bytes(20_000)
    location = create(server, camera, len(data)).headers["Location"]
    patch(server, camera, location, 0, data[:5000])
    response = requests.delete(server + location, headers={**TUS, **camera.auth}, timeout=10)
    assert response.status_code == 204
    assert head(server, camera, location).status_code == 410
    assert patch(server, camera, location, 5000, data[5000:]).status_code == 410
    assert not storage.tus_path(location.rsplit("/", 1)[1]).exists()
    [entry] = [e for e in _entries("delete") if e["object"]["ids"].get("upload")]
    assert entry["details"]["reason"] == "terminated by the client"
    assert entry["details"]["received"] == 5000
    assert entry["details"]["received_sha256"] == hashlib.sha256(data[:5000]).hexdigest()


def test_a_finished_upload_cannot_be_terminated(server, camera, unique_bytes) -> None:
    data = unique_bytes(1000)
    location = create(server, camera, len(data)).headers["Location"]
    patch(server, camera, location, 0, data)
    response = requests.delete(server + location, headers={**TUS, **camera.auth}, timeout=10)
    assert response.status_code == 403
    assert Original.objects.filter(sha256=hashlib.sha256(data).hexdigest()).exists()


def test_abandoned_uploads_expire_and_the_expiry_is_logged(server, camera, unique_bytes) -> None:
    data = unique_bytes(8000)
    location = create(server, camera, len(data)).headers["Location"]
    patch(server, camera, location, 0, data[:3000])
    upload_id = location.rsplit("/", 1)[1]
    later = timezone.now() + timedelta(days=30)

    counts = sweep.expire_due(later)
    assert counts["expired"] == 1
    upload = Upload.objects.get(pk=upload_id)
    assert upload.status == Upload.Status.EXPIRED
    assert not storage.tus_path(upload_id).exists()
    [entry] = [e for e in _entries("delete") if e["object"]["ids"].get("upload") == upload_id]
    assert entry["actor"] == {"kind": "system", "id": "uploads.expire"}
    assert entry["details"]["reason"].startswith("no bytes for")
    assert head(server, camera, location).status_code == 410


def test_expiry_job_runs_the_sweep_and_reschedules(server, camera) -> None:
    from overt.jobs.models import Job
    from overt.jobs.services import run

    create(server, camera, 10)
    create(server, camera, 10)
    job = Job.objects.get(kind="uploads.expire")  # one chain, however many uploads
    assert run(job.pk) == "succeeded"
    # Uploads are still in progress, so the next sweep is queued.
    assert Job.objects.filter(kind="uploads.expire", status="queued").count() == 1


def test_a_complete_upload_the_server_never_finished_is_finished_on_head(
    server, camera, unique_bytes
) -> None:
    data = unique_bytes(6000)
    location = create(server, camera, len(data)).headers["Location"]
    upload_id = location.rsplit("/", 1)[1]
    # As if the server stopped after the last fsync and offset, before ingest.
    storage.tus_path(upload_id).write_bytes(data)
    Upload.objects.filter(pk=upload_id).update(offset=len(data))
    response = head(server, camera, location)
    assert response.headers["Overt-Upload-Status"] == "stored"
    assert _stored_bytes(hashlib.sha256(data).hexdigest()) == data


def test_a_refused_creation_with_upload_still_gives_its_location(server, camera) -> None:
    bad = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    response = requests.post(
        f"{server}/files/",
        data=b"0123456789",
        headers={
            **TUS,
            **camera.auth,
            "Upload-Length": "10",
            "Upload-Metadata": metadata(officer="MP100"),
            "Content-Type": "application/offset+octet-stream",
            "Upload-Checksum": f"sha1 {bad}",
        },
        timeout=30,
    )
    assert response.status_code == 460, response.text
    location = response.headers["Location"]
    assert head(server, camera, location).headers["Upload-Offset"] == "0"
    assert patch(server, camera, location, 0, b"0123456789").status_code == 204


def test_the_sweep_finishes_complete_uploads_and_never_expires_them(
    server, camera, unique_bytes
) -> None:
    data = unique_bytes(7000)
    location = create(server, camera, len(data)).headers["Location"]
    upload_id = location.rsplit("/", 1)[1]
    storage.tus_path(upload_id).write_bytes(data)
    long_ago = timezone.now() - timedelta(days=10)
    Upload.objects.filter(pk=upload_id).update(
        offset=len(data), updated_at=long_ago, expires_at=long_ago
    )
    counts = sweep.expire_due()
    assert (counts["expired"], counts["finished"]) == (0, 1)
    assert Upload.objects.get(pk=upload_id).status == Upload.Status.STORED
    assert _stored_bytes(hashlib.sha256(data).hexdigest()) == data
