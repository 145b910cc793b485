"""The custody API: the public verifier key, proofs, checkpoints and report downloads."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import transaction

from overt.custody import checkpoint as tlog
from overt.custody.checkpoints import issue_checkpoint
from overt.custody.keys import verifier_key_text
from overt.custody.merkle import verify_consistency, verify_inclusion
from overt.custody.models import CustodyEntry
from overt.custody.services import Action, Actor, Subject, record_many
from overt.custody.verify import verify_instance
from overt.evidence.models import Original
from overt.ingest.services import ingest_file
from overt.testing.access import make_user, sign_in

pytestmark = pytest.mark.scaled
SHA = "ef" * 32


@pytest.fixture
def auditor(client, django_user_model):  # type: ignore[no-untyped-def]
    sign_in(client, make_user("auditor", "auditor", password="a-long-password"))
    return client


@pytest.fixture
def log(db: None) -> None:
    with transaction.atomic():
        record_many(Action("view", Actor("user", "x"), Subject(SHA), f"r{i}") for i in range(9))


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


def test_verifier_key_is_public_plain_text(client, db: None) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/.well-known/overt/custody-verifier-key")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == verifier_key_text() + "\n"


@pytest.mark.parametrize(
    "url",
    [
        "/api/custody/proofs/inclusion?entry=0",
        "/api/custody/proofs/consistency?old=0&new=1",
        "/api/custody/checkpoints/latest",
        "/api/custody/reports/1.zip",
    ],
)
def test_the_api_needs_a_signed_in_user(client, db: None, url: str) -> None:  # type: ignore[no-untyped-def]
    _problem(client.get(url), 403)


def test_inclusion_proof(auditor, log: None) -> None:  # type: ignore[no-untyped-def]
    cp = tlog.verify(issue_checkpoint().note, verifier_key_text())
    body = auditor.get(f"/api/custody/proofs/inclusion?entry=4&size={cp.size}").json()
    assert (body["leaf_index"], body["tree_size"], body["root"]) == (4, 9, cp.root_hash.hex())
    assert body["checkpoint"] == issue_checkpoint().note
    assert verify_inclusion(
        bytes.fromhex(body["leaf_hash"]),
        4,
        9,
        [bytes.fromhex(h) for h in body["hashes"]],
        cp.root_hash,
    )
    assert auditor.get("/api/custody/proofs/inclusion?entry=8").json()["tree_size"] == 9


def test_consistency_proof(auditor, log: None) -> None:  # type: ignore[no-untyped-def]
    body = auditor.get("/api/custody/proofs/consistency?old=3&new=9").json()
    assert set(body) == {"old_size", "new_size", "old_root", "new_root", "hashes"}
    assert verify_consistency(
        3,
        9,
        bytes.fromhex(body["old_root"]),
        bytes.fromhex(body["new_root"]),
        [bytes.fromhex(h) for h in body["hashes"]],
    )


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("inclusion", "the query parameter 'entry' is required"),
        ("inclusion?entry=-1", "entry must be a whole number"),
        ("inclusion?entry=x", "entry must be a whole number"),
        ("inclusion?entry=9", "entry 9 is not in a tree of size 9"),
        ("inclusion?entry=0&size=10", "tree size 10 is outside 0..9"),
        ("consistency?old=5&new=4", "cannot prove consistency from size 5 to size 4"),
        ("consistency?new=4", "the query parameter 'old' is required"),
    ],
)
def test_bad_proof_requests_are_problems(auditor, log: None, query: str, detail: str) -> None:  # type: ignore[no-untyped-def]
    body = _problem(auditor.get(f"/api/custody/proofs/{query}"), 400)
    assert detail in body["detail"]


def test_latest_checkpoint(auditor, log: None) -> None:  # type: ignore[no-untyped-def]
    _problem(auditor.get("/api/custody/checkpoints/latest"), 404)
    cp = issue_checkpoint()
    body = auditor.get("/api/custody/checkpoints/latest").json()
    assert (body["size"], body["root"], body["note"]) == (9, cp.root, cp.note)
    assert body["verifier_key"] == verifier_key_text()
    text = auditor.get("/api/custody/checkpoints/latest?as=note")
    assert text.content.decode() == cp.note


def test_entries_and_latest_verify_run(auditor, log: None) -> None:  # type: ignore[no-untyped-def]
    body = auditor.get(f"/api/custody/entries?object={SHA}").json()
    assert [e["leaf_index"] for e in body["entries"]] == list(range(9))
    _problem(auditor.get("/api/custody/entries?object=nope"), 400)
    _problem(auditor.get("/api/custody/verify/latest"), 404)
    _, run = verify_instance(log_only=True)
    latest = auditor.get("/api/custody/verify/latest").json()
    assert (latest["id"], latest["ok"], latest["entry_index"]) == (run.pk, True, 9)


@pytest.fixture
def exhibit(people, unique_bytes: Callable[[int], bytes], tmp_path: Path) -> Original:  # type: ignore[no-untyped-def]
    path = tmp_path / "exhibit.mp4"
    path.write_bytes(unique_bytes(10_000))
    return Original.objects.get(pk=ingest_file(path, officer_number="MP100", device_serial="CAM-1").id)


def test_report_download_is_logged_as_an_export(auditor, exhibit: Original) -> None:  # type: ignore[no-untyped-def]
    response = auditor.get(
        f"/api/custody/reports/{exhibit.recording_id}.zip?justification=CPS%20disclosure",
        HTTP_USER_AGENT="browser/1",
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    folder = f"custody-report-recording-{exhibit.recording_id}"
    names = set(archive.namelist())
    assert {f"{folder}/report.json", f"{folder}/report.html", f"{folder}/overt_verify.py"} <= names
    data = json.loads(archive.read(f"{folder}/report.json"))
    assert data["originals"][0]["sha256"] == exhibit.sha256
    export = json.loads(CustodyEntry.objects.get(action="export").entry)
    assert export["actor"] == {"kind": "user", "id": "auditor"}
    assert export["justification"] == "CPS disclosure"
    assert export["client"] == {"address": "127.0.0.1", "user_agent": "browser/1"}

    as_json = auditor.get(f"/api/custody/reports/{exhibit.recording_id}.json").json()
    assert [json.loads(e["entry"])["action"] for e in as_json["entries"]] == [
        "ingest",
        "export",
        "export",
    ]
    _problem(auditor.get("/api/custody/reports/999999.zip"), 404)


def test_custody_endpoints_are_described_in_the_schema(db: None) -> None:
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("", include("overt.api.custody_urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert "/api/custody/proofs/inclusion" in schema["paths"]
    assert dict(GENERATOR_STATS._warn_cache) == {}
    assert dict(GENERATOR_STATS._error_cache) == {}
