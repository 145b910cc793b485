"""Transcripts travel: the exhibit package holds every version (JSON as stored, WebVTT)
with an index of hashes and provenance, and the custody report lists them."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.test import Client
from search_support import make_recording, version_of

from overt.evidence.store import get_store
from overt.testing.access import make_user, sign_in
from overt.transcripts.corrections import correct

pytestmark = pytest.mark.scaled
REASON = {"category": "Disclosure preparation", "text": "CPS file for R v Smith"}


def _store_original(rec) -> None:  # type: ignore[no-untyped-def]
    """The package streams the original's bytes: put some in the store under its hash."""
    original = rec.originals.get()
    data = b"camera bytes " * 100
    stored = get_store().put(io.BytesIO(data))
    type(original).objects.filter(pk=original.pk).update(sha256=stored.sha256, size=stored.size)


def test_the_package_and_report_carry_every_version(client: Client, db: None) -> None:
    rec = make_recording("Stop", said="I am searching you under section one", said_at=2.0)
    _store_original(rec)
    manager = make_user("em", "evidence-manager")
    correct(manager, rec.originals.get().pk, {5: "section-one"}, "Heard clearly")
    sign_in(client, manager)
    response = client.post(
        f"/api/recordings/{rec.pk}/export/", REASON, content_type="application/json"
    )
    assert response.status_code == 200, response.content[:300]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    folder = f"exhibit-recording-{rec.pk}"
    index = json.loads(archive.read(f"{folder}/transcripts/index.json"))["transcripts"]
    assert [(t["version"], t["author"]) for t in index] == [(1, "machine"), (2, "em")]
    machine = version_of(rec)
    for item in index:
        for kind in ("json", "vtt"):
            data = archive.read(f"{folder}/{item[kind]['path']}")
            assert hashlib.sha256(data).hexdigest() == item[kind]["sha256"]
    assert index[0]["json"]["sha256"] == machine.derivative.sha256  # the stored bytes
    assert index[0]["model"] == "test" and index[1]["note"] == "Heard clearly"
    vtt = archive.read(f"{folder}/{index[1]['vtt']['path']}").decode()
    assert vtt.startswith("WEBVTT") and "section-one" in vtt
    assert "transcripts/" in archive.read(f"{folder}/README.txt").decode()

    report = json.loads(archive.read(f"{folder}/custody/report.json"))
    listed = [d for o in report["originals"] for d in o["derivatives"] if d["kind"] == "transcript"]
    assert [d["sha256"] for d in listed] == [i["json"]["sha256"] for i in index]
    assert all(d["generator"] == "overt.transcripts" for d in listed)
    html = archive.read(f"{folder}/custody/report.html").decode()
    assert machine.derivative.sha256 in html and "Transcripts" in html
