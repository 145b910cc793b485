"""Downloads and exhibit packages: checked, justified and on the record before a byte leaves."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from access_support import people, recording
from django.test import Client

from overt.access.matrix import Role
from overt.custody.models import CustodyEntry
from overt.evidence.models import Original, Recording
from overt.evidence.store import get_store
from overt.testing.access import make_user, sign_in

pytestmark = pytest.mark.scaled
REASON = {"category": "Disclosure preparation", "text": "CPS file for R v Smith"}


@pytest.fixture
def footage(db: None) -> Recording:
    return recording(people()["MP3"], "Stop at the junction", salt="release")


@pytest.fixture
def manager(client: Client) -> Client:
    return sign_in(client, make_user("em", Role.EVIDENCE_MANAGER))


def _entries(action: str) -> list[dict]:
    return [json.loads(e.entry) for e in CustodyEntry.objects.filter(action=action)]


def _body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content)


def test_api_download_gives_the_original_byte_for_byte_after_logging_why(
    manager: Client, footage: Recording
) -> None:
    original = footage.originals.get()
    response = manager.post(
        f"/api/originals/{original.pk}/download/", REASON, content_type="application/json"
    )
    assert response.status_code == 200
    data = _body(response)
    assert hashlib.sha256(data).hexdigest() == original.sha256
    assert len(data) == original.size == int(response["Content-Length"])
    digest = base64.b64encode(bytes.fromhex(original.sha256)).decode()
    assert response["Repr-Digest"] == f"sha-256=:{digest}:"
    assert 'attachment; filename="clip.mp4"' == response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    [entry] = _entries("download")
    assert entry["justification"] == "Disclosure preparation: CPS file for R v Smith"
    assert entry["actor"] == {"kind": "user", "id": "em"}
    assert entry["object"]["sha256"] == original.sha256
    assert entry["object"]["ids"] == {"original": original.pk, "recording": footage.pk}
    index = CustodyEntry.objects.get(action="download").index
    assert response["X-Overt-Custody-Entries"] == str(index)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "choose a reason category"),
        ({"category": "Curiosity", "text": "just looking"}, "choose a reason category"),
        ({"category": "Investigation", "text": "   "}, "a few words"),
        ({"category": "Investigation", "text": "x" * 2001}, "at most 2000"),
    ],
)
def test_api_download_without_a_good_reason_releases_nothing(
    manager: Client, footage: Recording, body: dict, says: str
) -> None:
    original = footage.originals.get()
    response = manager.post(
        f"/api/originals/{original.pk}/download/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert says in json.dumps(response.json())
    assert _entries("download") == []


def test_a_role_that_may_watch_but_not_download_is_refused_and_the_refusal_logged(
    client: Client, footage: Recording
) -> None:
    sign_in(client, make_user("pc3", Role.OFFICER, officer="MP3"))  # their own footage
    original = footage.originals.get()
    response = client.post(
        f"/api/originals/{original.pk}/download/", REASON, content_type="application/json"
    )
    assert response.status_code == 403
    assert "may not download" in response.json()["detail"]
    assert _entries("download") == []
    [refused] = _entries("access-refused")
    assert refused["details"]["action"] == "download"
    # the export is refused the same way, and the page too
    response = client.post(
        f"/api/recordings/{footage.pk}/export/", REASON, content_type="application/json"
    )
    assert response.status_code == 403
    assert client.get(f"/recordings/{footage.pk}/release").status_code == 403
    assert [e["details"]["action"] for e in _entries("access-refused")] == [
        "download",
        "export",
        "download",
    ]


def test_someone_who_may_not_know_of_it_gets_404_that_reveals_nothing(
    client: Client, footage: Recording
) -> None:
    sign_in(client, make_user("pc1", Role.OFFICER, officer="MP1"))
    original = footage.originals.get()
    for response in (
        client.post(
            f"/api/originals/{original.pk}/download/", REASON, content_type="application/json"
        ),
        client.post(
            f"/api/recordings/{footage.pk}/export/", REASON, content_type="application/json"
        ),
        client.get(f"/recordings/{footage.pk}/release"),
    ):
        assert response.status_code == 404
        assert footage.title not in response.content.decode()
        assert original.sha256 not in response.content.decode()
    assert _entries("download") == _entries("export") == []


def test_a_purged_original_is_gone_not_missing(manager: Client, footage: Recording) -> None:
    original = footage.originals.get()
    # The catalogue row of an original whose bytes are gone, as after a retention purge.
    # (Purging here would be refused on S3 under Object Lock, rightly, so the bytes are
    # swapped for a hash the store never held.)
    Original.objects.filter(pk=original.pk).update(sha256="0" * 64)
    assert not get_store().exists("0" * 64)
    response = manager.post(
        f"/api/originals/{original.pk}/download/", REASON, content_type="application/json"
    )
    assert response.status_code == 410
    assert "purged" in response.json()["detail"]
    response = manager.post(
        f"/api/recordings/{footage.pk}/export/", REASON, content_type="application/json"
    )
    assert response.status_code == 410
    assert _entries("download") == _entries("export") == []


@pytest.fixture
def ingested(people, clips: dict[str, Path], tmp_path: Path) -> Recording:  # type: ignore[no-untyped-def]
    """A real ingested clip, and a corrupt second clip of the same activation."""
    from overt.ingest.services import ingest_file

    first = ingest_file(clips["good"], officer_number="MP100", device_serial="CAM-1")
    corrupt = tmp_path / "clip-2.mp4"
    corrupt.write_bytes(b"second clip, corrupt on the camera " * 500)
    second = ingest_file(corrupt, officer_number="MP100", device_serial="CAM-1")
    footage = Original.objects.get(pk=first.id).recording
    # A sidecar would group them by trigger time; here the row is simply moved.
    Original.objects.filter(pk=second.id).update(recording=footage)
    return footage


def test_exhibit_package_holds_originals_report_and_a_verifier_that_passes(
    manager: Client, ingested: Recording, tmp_path: Path
) -> None:
    footage = ingested
    second = footage.originals.get(filename="clip-2.mp4")
    response = manager.post(
        f"/api/recordings/{footage.pk}/export/", REASON, content_type="application/json"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    folder = f"exhibit-recording-{footage.pk}"
    assert response["Content-Disposition"] == f'attachment; filename="{folder}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(_body(response)))
    assert archive.testzip() is None
    names = set(archive.namelist())
    originals = list(footage.originals.order_by("started_at", "pk"))
    for original in originals:
        member = f"{folder}/originals/{original.sha256[:12]}-{original.filename}"
        assert member in names
        data = archive.read(member)
        assert hashlib.sha256(data).hexdigest() == original.sha256
        assert archive.getinfo(member).compress_type == zipfile.ZIP_STORED
    for name in ("report.json", "report.html", "overt_verify.py"):
        assert f"{folder}/custody/{name}" in names
    manifest = json.loads(archive.read(f"{folder}/manifest.json"))
    assert manifest["format"] == "overt-exhibit-package/1"
    assert manifest["exported_by"] == "em"
    assert manifest["justification"] == "Disclosure preparation: CPS file for R v Smith"
    listed = {o["sha256"]: o for o in manifest["originals"]}
    assert listed[second.sha256]["playable"] is False
    assert listed[second.sha256]["problem"]  # why it cannot be played travels with it

    exports = [e for e in _entries("export") if e["details"]["what"] == "exhibit package"]
    assert sorted(e["object"]["sha256"] for e in exports) == sorted(o.sha256 for o in originals)
    assert {e["justification"] for e in exports} == {manifest["justification"]}
    indices = [int(i) for i in response["X-Overt-Custody-Entries"].split(",")]
    assert sorted(indices) == sorted(
        CustodyEntry.objects.filter(action="export").values_list("index", flat=True)
    )

    # What a defence expert does with it: unpack, run the verifier on each original.
    archive.extractall(tmp_path)
    for command in manifest["how_to_verify"]:
        args = command.split()[1:]
        checked = subprocess.run(
            [sys.executable, *args],
            cwd=tmp_path / folder,
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    # the package's own export entries are inside its report, proved
    report = json.loads(archive.read(f"{folder}/custody/report.json"))
    assert set(indices) <= {e["leaf_index"] for e in report["entries"]}


def test_release_page_asks_for_the_reason_once_then_downloads(
    manager: Client, footage: Recording
) -> None:
    original = footage.originals.get()
    page = manager.get(f"/recordings/{footage.pk}/")
    assert f'href="/recordings/{footage.pk}/release"' in page.content.decode()
    page = manager.get(f"/recordings/{footage.pk}/release")
    assert page.status_code == 200
    html = page.content.decode()
    assert original.sha256 in html
    assert "Export exhibit package" in html

    refused = manager.post(f"/recordings/{footage.pk}/release", {"original": original.pk})
    assert refused.status_code == 400
    assert "Your reason was not recorded" in refused.content.decode()
    assert _entries("download") == []

    response = manager.post(
        f"/recordings/{footage.pk}/release", {"original": original.pk, **REASON}
    )
    assert response.status_code == 200
    assert hashlib.sha256(_body(response)).hexdigest() == original.sha256
    [entry] = _entries("download")
    assert entry["justification"] == "Disclosure preparation: CPS file for R v Smith"

    other = recording(people()["MP1"], "Another recording", salt="release-2")
    wrong = manager.post(
        f"/recordings/{footage.pk}/release",
        {"original": other.originals.get().pk, **REASON},
    )
    assert wrong.status_code == 400
    assert "choose which original" in wrong.content.decode()

    export = manager.post(f"/recordings/{footage.pk}/release", {"export": "1", **REASON})
    assert export.status_code == 200
    assert export["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(_body(export))).testzip() is None


def test_a_prosecutor_downloads_what_is_shared_but_may_not_export(
    client: Client, footage: Recording
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from overt.access import grants
    from overt.custody.services import Actor

    cps = make_user("cps", Role.PROSECUTOR)
    grants.share(footage, cps, expires_at=timezone.now() + timedelta(days=7), by=Actor.system("t"))
    sign_in(client, cps)
    page = client.get(f"/recordings/{footage.pk}/release").content.decode()
    assert f'name="original" value="{footage.originals.get().pk}"' in page  # its download button
    assert 'name="export"' not in page
    original = footage.originals.get()
    response = client.post(
        f"/api/originals/{original.pk}/download/", REASON, content_type="application/json"
    )
    assert response.status_code == 200
    assert hashlib.sha256(_body(response)).hexdigest() == original.sha256


def test_the_reasons_offered_are_the_forces_own_list(
    manager: Client, footage: Recording, settings_env
) -> None:  # type: ignore[no-untyped-def]
    settings_env(justification_categories="Court order,Subject access request")
    for url in (f"/recordings/{footage.pk}/", f"/recordings/{footage.pk}/release"):
        html = manager.get(url).content.decode()
        assert '<option value="Subject access request">' in html
        assert "Evidence review" not in html
    original = footage.originals.get()
    old = {"category": "Evidence review", "text": "not on this force's list"}
    response = manager.post(
        f"/api/originals/{original.pk}/download/", old, content_type="application/json"
    )
    assert response.status_code == 400
    assert "'Court order', 'Subject access request'" in response.json()["detail"]
    watched = manager.post(
        f"/recordings/{footage.pk}/", {"category": "Court order", "text": "Order 12/2026"}
    )
    assert watched.status_code == 302
    [view] = _entries("view")
    assert view["justification"] == "Court order: Order 12/2026"
