"""The public transparency report: aggregates only, small counts suppressed, no names;
its figures logged and signed, checked offline by the standalone verifier, and a single
tampered figure fails the check."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
    # Westminster's 8 attendances are hidden as Camden's partner: the force's 9 minus a
    # published 8 would give Camden's 1.
    assert westminster["borough"] == "Westminster" and westminster["attendances"] is None
    assert report["figures"]["force"]["attendances"] == 9
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


def _needs_pdf(problem: str) -> None:
    if problem:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"no PDF under CI: {problem}")
        pytest.skip(f"WeasyPrint unavailable here: {problem}")


def _flip_one_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_html_and_pdf_are_hashed_into_the_entry_before_it_is_logged(tmp_path: Path) -> None:
    month_of_deployments()
    files = publish("2026-11", tmp_path / "r", actor=ACTOR)
    folder = files.folder
    _needs_pdf(files.pdf_problem)
    report = json.loads((folder / "report.json").read_text())
    details = json.loads(CustodyEntry.objects.get(action="transparency-report").entry)["details"]
    assert report["format"] == details["format"] == "overt-transparency-report/2"
    for name in ("csv", "html", "pdf"):
        digest = hashlib.sha256((folder / f"report.{name}").read_bytes()).hexdigest()
        assert details[f"{name}_sha256"] == report[f"{name}_sha256"] == digest, name
    html = (folder / "report.html").read_text()
    # Nothing known only once the entry is logged: no checkpoint, root or leaf hash.
    assert files.sha256 in html and report["checkpoint"]["note"].split("\n")[0] not in html
    assert report["checkpoint"]["root"] not in html and report["custody"]["leaf_hash"] not in html
    good = verify(folder, "--key", (folder / "verifier-key").read_text().strip())
    assert good.returncode == 0, good.stdout
    for name in ("report.csv", "report.html", "report.pdf"):
        assert f"PASS  {name} is the" in good.stdout, good.stdout
    assert "WARN" not in good.stdout


@pytest.mark.parametrize("name", ["report.html", "report.pdf"])
def test_one_changed_byte_of_the_html_or_pdf_fails_naming_the_file(
    tmp_path: Path, name: str
) -> None:
    month_of_deployments()
    files = publish("2026-11", tmp_path / "r", actor=ACTOR)
    _needs_pdf(files.pdf_problem)
    path = files.folder / name
    _flip_one_byte(path, len(path.read_bytes()) // 2)
    bad = verify(files.folder)
    assert bad.returncode == 1, bad.stdout
    assert f"FAIL  {name} is NOT the" in bad.stdout and "VERDICT: FAIL" in bad.stdout
    assert bad.stdout.count("FAIL  ") == 1  # the figures and the other files still check


def test_a_missing_pdf_or_html_is_a_warning_and_the_rest_still_passes(tmp_path: Path) -> None:
    month_of_deployments()
    files = publish("2026-11", tmp_path / "r", actor=ACTOR)
    _needs_pdf(files.pdf_problem)
    (files.folder / "report.pdf").unlink()
    partial = verify(files.folder)
    assert partial.returncode == 0, partial.stdout
    assert "WARN  report.pdf NOT checked: not found" in partial.stdout
    assert "PASS  report.html is the" in partial.stdout and "1 warning(s)" in partial.stdout
    (files.folder / "report.html").unlink()
    fewer = verify(files.folder)
    assert fewer.returncode == 0 and "WARN  report.html NOT checked" in fewer.stdout
    assert "2 warning(s)" in fewer.stdout


def test_a_pdf_beside_a_report_that_logged_none_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import overt.oversight.report as module

    monkeypatch.setattr(module, "render_pdf", lambda html, path: "no PDF in this test")
    month_of_deployments()
    files = publish("2026-11", tmp_path / "r", actor=ACTOR)
    assert files.pdf_problem == "no PDF in this test" and not (files.folder / "report.pdf").exists()
    details = json.loads(CustodyEntry.objects.get(action="transparency-report").entry)["details"]
    assert "pdf_sha256" not in details and details["pdf_not_made"] == module.PDF_NOT_MADE
    good = verify(files.folder)
    assert (
        good.returncode == 0 and f"the force logged no PDF ({module.PDF_NOT_MADE})" in good.stdout
    )
    (files.folder / "report.pdf").write_bytes(b"%PDF-1.7 forged figures")
    bad = verify(files.folder)
    assert bad.returncode == 1 and "report.pdf is here, but the force logged no PDF" in bad.stdout


def test_a_format_1_report_checks_its_figures_and_csv_and_says_what_it_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import overt.oversight.report as module

    monkeypatch.setattr(module, "REPORT_FORMAT", "overt-transparency-report/1")
    month_of_deployments()
    folder = publish("2026-11", tmp_path / "r", actor=ACTOR).folder
    _flip_one_byte(folder / "report.html", 100)  # /1 never logged its HTML
    old = verify(folder)
    assert old.returncode == 0, old.stdout
    assert (
        "PASS  report.csv is the" in old.stdout
        and "report.html and report.pdf are NOT checked" in old.stdout
    )
    assert "report.html is" not in old.stdout and "1 warning(s)" in old.stdout
    rows = list(csv.reader((folder / "report.csv").open()))
    rows[2][2] = "8"
    with (folder / "report.csv").open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    assert verify(folder).returncode == 1


def test_relabelling_a_format_2_report_as_1_fails(tmp_path: Path) -> None:
    month_of_deployments()
    folder = publish("2026-11", tmp_path / "r", actor=ACTOR).folder
    report = json.loads((folder / "report.json").read_text())
    report["format"] = "overt-transparency-report/1"  # to skip the HTML and PDF checks
    (folder / "report.json").write_text(json.dumps(report))
    _flip_one_byte(folder / "report.html", 100)
    bad = verify(folder)
    assert (
        bad.returncode == 1 and "but the force logged 'overt-transparency-report/2'" in bad.stdout
    )


def test_a_report_is_never_written_over_another_and_a_bad_month_is_refused(tmp_path: Path) -> None:
    from overt import errors

    publish("2026-11", tmp_path / "r", actor=ACTOR)
    with pytest.raises(errors.Conflict):
        publish("2026-11", tmp_path / "r", actor=ACTOR)
    for month in ("November", "2026-1", "2026-13", "2026-11-01"):
        with pytest.raises(errors.Invalid):  # "2026-1" was taken and published as "2026-1"
            publish(month, tmp_path / "s", actor=ACTOR)


def test_complementary_suppression() -> None:
    row = {"attendances": 100, "recorded": 90, "late": 3, "no_footage": 7, "compliance_rate": 0.9}
    out = suppress(row, 5, ["attendances", "recorded", "late", "no_footage"])
    assert out["late"] is None and out["no_footage"] is None and out["compliance_rate"] is None
    assert out["recorded"] == 90 and out["attendances"] == 100


STATUS = ["recorded", "late", "early_stop", "gaps", "no_footage"]


def _row(borough: str, **counts: int) -> dict:
    row = {"borough": borough, **{s: 0 for s in STATUS}, "muted_audio": 0, **counts}
    row["attendances"] = sum(row[s] for s in STATUS)
    row["compliance_rate"] = round(row["recorded"] / row["attendances"], 4)
    return row


def _force(rows: list[dict]) -> dict:
    names = ["attendances", *STATUS, "muted_audio"]
    return {n: sum(r[n] for r in rows) for n in names} | {"compliance_rate": 0.5}


def _table(rows: list[dict]) -> tuple[list[dict], dict]:
    from overt.oversight.rates import suppress_table

    return suppress_table(
        rows, _force(rows), 5, whole="attendances", parts=STATUS, others=["muted_audio"]
    )


def test_a_borough_count_cannot_be_had_as_the_force_minus_the_others() -> None:
    # Hostile: once suppressed row by row, Camden's 2 late activations were the force's
    # 15 minus Hackney's 6 and Westminster's 7, all published.
    rows = [
        _row("Camden", recorded=40, late=2, early_stop=8),
        _row("Hackney", recorded=50, late=6, early_stop=9),
        _row("Westminster", recorded=60, late=7, early_stop=10),
    ]
    shown, force = _table(rows)
    assert shown[0]["late"] is None and force["late"] == 15
    assert [r["late"] for r in shown[1:]].count(None) >= 1  # a partner hidden down the column


def test_a_hidden_status_cannot_be_had_beside_hidden_muted_audio() -> None:
    # Hostile: muted audio is not a part of the attendances; with late (3) and muted (2)
    # the only hidden counts, late was the attendances minus the recorded.
    rows = [_row("Camden", recorded=17, late=3, muted_audio=2), _row("Hackney", recorded=30)]
    rows.append(_row("Westminster", recorded=40))
    shown, _ = _table(rows)
    assert shown[0]["late"] is None and shown[0]["recorded"] is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 12), min_size=6, max_size=6), min_size=1, max_size=4))
def test_no_published_sum_has_exactly_one_hidden_term(counts: list[list[int]]) -> None:
    rows = [
        _row(f"B{i}", **dict(zip(STATUS, c[:5], strict=True)), muted_audio=c[5])
        for i, c in enumerate(counts)
        if sum(c[:5])
    ]
    if not rows:
        return
    shown, force = _table(rows)
    table = [*shown, force]
    for row in table:  # the attendances are the statuses' sum
        terms = [row["attendances"], *(row[s] for s in STATUS)]
        assert terms.count(None) != 1, row
    for name in ["attendances", *STATUS, "muted_audio"]:  # the force is the boroughs' sum
        assert [r[name] for r in table].count(None) != 1, name
    for original, row in zip([*rows, _force(rows)], table, strict=True):
        for name in ["attendances", *STATUS, "muted_audio"]:
            assert not 0 < original[name] < 5 or row[name] is None  # small counts hidden


@pytest.mark.parametrize("entry", ["not json", "[1, 2]", '"a string"'])
def test_a_malformed_custody_entry_fails_plainly(tmp_path: Path, entry: str) -> None:
    """The verifier once crashed with a traceback on an entry that is not a JSON object."""
    month_of_deployments()
    folder = publish("2026-11", tmp_path / "r", actor=ACTOR).folder
    report = json.loads((folder / "report.json").read_text())
    report["custody"]["entry"] = entry
    (folder / "report.json").write_text(json.dumps(report))
    bad = verify(folder)
    assert bad.returncode == 1 and "Traceback" not in bad.stdout + bad.stderr
    assert "FAIL" in bad.stdout
