"""The custody report of a recording: what it holds, and that its proofs check."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from overt.custody import checkpoint as tlog
from overt.custody.keys import origin, verifier_key_text
from overt.custody.merkle import leaf_hash, verify_inclusion
from overt.custody.models import CustodyEntry
from overt.custody.report import REPORT_FORMAT, ReportError, build_report_data, write_report
from overt.custody.services import Actor, Client
from overt.evidence.models import Original
from overt.ingest.services import ingest_file

# Database tests here run on both engines by folder (overt.testing.engines); the ones
# that touch no engine run once.
TOOLS_VERIFIER = Path(__file__).parents[2] / "tools" / "overt_verify.py"


@pytest.fixture
def exhibit(people, unique_bytes: Callable[[int], bytes], tmp_path: Path) -> Original:  # type: ignore[no-untyped-def]
    path = tmp_path / "clip 1 <of 2>.mp4"
    path.write_bytes(unique_bytes(30_000))
    result = ingest_file(path, officer_number="MP100", device_serial="CAM-1")
    return Original.objects.get(pk=result.id)


def _weasyprint_usable() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def test_report_identifies_the_original_and_proves_every_entry(exhibit: Original) -> None:
    auditor = Actor("user", "auditor")
    data = build_report_data(
        exhibit.recording_id,
        actor=auditor,
        justification="Disclosure to defence, case 12/26",
        client=Client("192.0.2.7", "pytest"),
    )
    assert data["format"] == REPORT_FORMAT and data["origin"] == origin()
    assert data["verifier_key"] == verifier_key_text()
    rec = data["recording"]
    assert rec["officer"] == {"number": "MP100", "name": "PC Test", "team": "Test Team"}
    assert rec["camera"] == {"serial": "CAM-1", "model": "Test Cam", "firmware": "1.0"}
    [original] = data["originals"]
    assert (original["sha256"], original["size"]) == (exhibit.sha256, exhibit.size)
    assert original["ingested_at"].endswith("Z") and original["playable"] is False

    checkpoint = tlog.verify(data["checkpoint"]["note"], data["verifier_key"], origin=origin())
    assert (data["checkpoint"]["size"], data["checkpoint"]["root"]) == (
        checkpoint.size,
        checkpoint.root_hash.hex(),
    )
    actions = [json.loads(e["entry"])["action"] for e in data["entries"]]
    assert actions == ["ingest", "export"]  # making the report is itself on the record
    export = json.loads(data["entries"][1]["entry"])
    assert export["actor"] == {"kind": "user", "id": "auditor"}
    assert export["justification"] == "Disclosure to defence, case 12/26"
    assert export["client"] == {"address": "192.0.2.7", "user_agent": "pytest"}
    for item in data["entries"]:
        proof = item["proof"]
        assert item["leaf_hash"] == leaf_hash(item["entry"].encode()).hex() == proof["leaf_hash"]
        assert proof["tree_size"] == checkpoint.size and proof["root"] == checkpoint.root_hash.hex()
        assert verify_inclusion(
            bytes.fromhex(proof["leaf_hash"]),
            item["leaf_index"],
            checkpoint.size,
            [bytes.fromhex(h) for h in proof["hashes"]],
            checkpoint.root_hash,
        )
    assert CustodyEntry.objects.filter(action="export", object_sha256=exhibit.sha256).count() == 1


def test_report_files(exhibit: Original, tmp_path: Path) -> None:
    out = tmp_path / "report"
    files = write_report(exhibit.recording_id, out, actor=Actor.system("test"))
    data = json.loads(files.json.read_text("utf-8"))
    html = files.html.read_text("utf-8")
    assert exhibit.sha256 in html and "PC Test" in html and "CAM-1" in html
    assert "clip 1 &lt;of 2&gt;.mp4" in html  # escaped, never raw markup
    assert data["checkpoint"]["note"].split("\n")[0] in html
    assert files.verifier.read_bytes() == TOOLS_VERIFIER.read_bytes()
    if files.pdf is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"no PDF under CI: {files.pdf_problem}")
        pytest.skip(f"WeasyPrint unavailable (needs the Debian package libpango-1.0-0): {files.pdf_problem}")
    assert files.pdf.read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in out.iterdir()) == [
        "overt_verify.py",
        "report.html",
        "report.json",
        "report.pdf",
    ]


def test_report_of_unknown_or_empty_recording_is_refused(db: None) -> None:
    with pytest.raises(ReportError, match="no recording 4242"):
        build_report_data(4242, actor=Actor.system("test"))


def test_weasyprint_is_installed_under_ci() -> None:
    if not _weasyprint_usable():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("WeasyPrint cannot be imported under CI")
        pytest.skip("WeasyPrint unavailable (pip install weasyprint; apt install libpango-1.0-0)")
