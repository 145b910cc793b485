"""The public transparency report: aggregates only, small counts suppressed, no names;
its figures logged and signed, checked offline by the standalone verifier, and a single
tampered figure fails the check."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from oversight_support import ACTOR, as_file, at, attending, deployment, officer, recording

from overt.custody.models import CustodyEntry
from overt.oversight.deployments import import_deployments
from overt.oversight.rates import suppress
from overt.oversight.report import publish

pytestmark = pytest.mark.django_db


def verify(
    folder: Path, *extra: str, script: str = "overt_verify_report.py"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(folder / script), str(folder / "report.json"), *extra],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )


def month_of_deployments() -> None:
    people = [officer(f"W{i}") for i in range(8)]
    for p in people[:6]:
        recording(p, at(-1), at(31))
    recording(people[6], at(5), at(31))  # late
    items = [
        deployment(f"CAD {i}", [attending(p.number, at(0), at(30))]) for i, p in enumerate(people)
    ]
    items.append(
        deployment("CAD C1", [attending("W0", at(100), at(110))], arrived=at(100), borough="Camden")
    )
    import_deployments(as_file(items), actor=ACTOR)


def test_the_report_is_published_signed_and_verifies_offline(tmp_path: Path) -> None:
    month_of_deployments()
    files = publish("2026-11", tmp_path / "r", actor=ACTOR)
    folder = files.folder
    names = {p.name for p in files.paths}
    assert {
        "report.json",
        "report.csv",
        "report.html",
        "checkpoint",
        "inclusion-proof.json",
        "overt_verify_report.py",
    } <= names
    report = json.loads((folder / "report.json").read_text())
    westminster = report["figures"]["by_borough"][1]
    assert westminster["borough"] == "Westminster" and westminster["attendances"] == 8
    assert westminster["recorded"] == 6 and westminster["late"] is None  # 1 late, 1 no footage
    assert westminster["no_footage"] is None and westminster["compliance_rate"] is None
    camden = report["figures"]["by_borough"][0]
    assert camden["attendances"] is None  # 1 attendance: suppressed
    # The figures and the table name no one. (Not the whole file: the checkpoint's base64
    # signature and root can hold "W0" by chance; on PostgreSQL one run's did.)
    text = json.dumps(report["figures"]) + (folder / "report.csv").read_text()
    assert "W0" not in text and "Officer" not in text and "CAD" not in text  # no names
    entry = CustodyEntry.objects.get(action="transparency-report")
    assert entry.object_sha256 == files.sha256
    good = verify(folder, "--key", (folder / "verifier-key").read_text().strip())
    assert good.returncode == 0, good.stdout
    assert "VERDICT: PASS" in good.stdout
    via_main = verify(folder, script="overt_verify.py")  # the custody verifier hands it over
    assert via_main.returncode == 0, via_main.stdout
    if files.pdf_problem == "":
        assert (folder / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_tampering_with_one_figure_fails_verification(tmp_path: Path) -> None:
    month_of_deployments()
    folder = publish("2026-11", tmp_path / "r", actor=ACTOR).folder
    report = json.loads((folder / "report.json").read_text())
    report["figures"]["by_borough"][1]["recorded"] = 7
    (folder / "report.json").write_text(json.dumps(report))
    bad = verify(folder)
    assert bad.returncode == 1 and "NOT the SHA-256 the force logged" in bad.stdout


def test_tampering_with_the_csv_fails_verification(tmp_path: Path) -> None:
    month_of_deployments()
    folder = publish("2026-11", tmp_path / "r", actor=ACTOR).folder
    rows = list(csv.reader((folder / "report.csv").open()))
    rows[2][2] = "8"
    with (folder / "report.csv").open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    bad = verify(folder)
    assert bad.returncode == 1 and "report.csv is NOT the CSV" in bad.stdout


def test_a_report_is_never_written_over_another_and_a_bad_month_is_refused(tmp_path: Path) -> None:
    from overt import errors

    publish("2026-11", tmp_path / "r", actor=ACTOR)
    with pytest.raises(errors.Conflict):
        publish("2026-11", tmp_path / "r", actor=ACTOR)
    with pytest.raises(errors.Invalid):
        publish("November", tmp_path / "s", actor=ACTOR)


def test_complementary_suppression() -> None:
    row = {"attendances": 100, "recorded": 90, "late": 3, "no_footage": 7, "compliance_rate": 0.9}
    out = suppress(row, 5, ["attendances", "recorded", "late", "no_footage"])
    assert out["late"] is None and out["no_footage"] is None and out["compliance_rate"] is None
    assert out["recorded"] == 90 and out["attendances"] == 100
