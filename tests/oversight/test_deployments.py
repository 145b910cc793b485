"""Importing deployments: all or nothing, idempotent, logged; each bad-input case of the
issue has a defined result (never a crash, never a silently dropped row)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from oversight_support import ACTOR, as_file, at, attending, deployment, officer

from overt.custody.models import CustodyEntry
from overt.oversight.deployments import ImportRefused, import_deployments
from overt.oversight.models import Attendance, Deployment

pytestmark = pytest.mark.django_db


def test_import_creates_deployments_and_attendances_and_logs_it() -> None:
    officer("MP4121")
    data = as_file([deployment("CAD 1", [attending("MP4121", at(1), at(29))])])
    result = import_deployments(data, name="x.json", actor=ACTOR)
    assert (len(result.created), result.attendances, result.warnings) == (1, 1, [])
    attendance = Attendance.objects.get()
    assert attendance.officer.number == "MP4121" and attendance.times_from == "officer"
    entry = CustodyEntry.objects.filter(action="deployments-import").get()
    assert json.loads(entry.entry)["details"]["file_sha256"] == result.file_sha256


def test_the_same_file_twice_changes_nothing() -> None:
    data = as_file([deployment("CAD 1", [attending("MP4121")])])
    import_deployments(data, actor=ACTOR)
    again = import_deployments(data, actor=ACTOR)
    assert (again.created, again.updated, again.unchanged) == ([], [], ["CAD 1"])
    assert Deployment.objects.count() == 1 and Attendance.objects.count() == 1


def test_a_changed_reference_is_corrected_not_duplicated() -> None:
    import_deployments(as_file([deployment("CAD 1", [attending("A1")])]), actor=ACTOR)
    fixed = import_deployments(
        as_file([deployment("CAD 1", [attending("A2"), attending("A3")])]), actor=ACTOR
    )
    assert fixed.updated == ["CAD 1"]
    assert sorted(Attendance.objects.values_list("officer_number", flat=True)) == ["A2", "A3"]


def test_one_bad_row_imports_nothing_and_names_row_and_field() -> None:
    good = deployment("CAD 1", [attending("A1")])
    bad = {**deployment("CAD 2", [attending("A1")]), "ended_at": "soon"}
    with pytest.raises(ImportRefused) as caught:
        import_deployments(as_file([good, bad]), actor=ACTOR)
    assert caught.value.extra["errors"] == [
        {
            "row": "deployment 2",
            "field": "ended_at",
            "detail": caught.value.extra["errors"][0]["detail"],
        }
    ]
    assert Deployment.objects.count() == 0
    assert not CustodyEntry.objects.filter(action="deployments-import").exists()


def test_attendance_with_no_times_takes_the_deployments() -> None:
    result = import_deployments(
        as_file([deployment("CAD 1", [attending("A1")], arrived=at(0), ended=at(40))]), actor=ACTOR
    )
    a = Attendance.objects.get()
    assert (a.arrived_at, a.departed_at, a.times_from) == (at(0), at(40), "deployment")
    assert [w["kind"] for w in result.warnings] == ["unknown-officer", "deployment-times"]


def test_unknown_officers_are_kept_and_warned() -> None:
    result = import_deployments(
        as_file([deployment("CAD 1", [attending("ZZ9", at(0), at(5))])]), actor=ACTOR
    )
    assert Attendance.objects.get().officer is None
    assert result.warnings[0]["kind"] == "unknown-officer"


def test_a_deployment_with_no_officers_is_kept_and_warned() -> None:
    result = import_deployments(as_file([deployment("CAD 0", [])]), actor=ACTOR)
    assert Deployment.objects.filter(reference="CAD 0").exists() and Attendance.objects.count() == 0
    assert result.warnings == [
        {
            "reference": "CAD 0",
            "officer": "",
            "kind": "no-officers",
            "detail": result.warnings[0]["detail"],
        }
    ]


def test_overlapping_deployments_for_one_officer_are_both_kept_and_warned() -> None:
    officer("A1")
    first = deployment("CAD 1", [attending("A1", at(0), at(30))])
    second = deployment("CAD 2", [attending("A1", at(20), at(50))], arrived=at(20))
    result = import_deployments(as_file([first, second]), actor=ACTOR)
    assert Attendance.objects.count() == 2
    assert next(w for w in result.warnings if w["kind"] == "overlap")["reference"] == "CAD 2"


def test_the_cli_imports_and_refuses_with_exit_status_2(tmp_path) -> None:
    from overt.cli.main import cli

    good = tmp_path / "d.json"
    good.write_bytes(as_file([deployment("CAD 1", [attending("A1")])]))
    done = CliRunner().invoke(cli, ["deployments", "import", str(good), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["created"] == 1
    bad = tmp_path / "d.csv"
    bad.write_text("reference,type\n")
    refused = CliRunner().invoke(cli, ["deployments", "import", str(bad)])
    assert refused.exit_code == 2 and "row 1, officer_number: missing column" in refused.output
    assert "Traceback" not in refused.output


def test_a_file_over_the_import_limit_is_refused_whole(client, tmp_path, monkeypatch) -> None:
    from overt.access.matrix import Role
    from overt.cli.main import cli
    from overt.oversight import api, deployments
    from overt.testing.access import make_user, sign_in

    monkeypatch.setattr(deployments, "MAX_IMPORT_BYTES", 100)
    monkeypatch.setattr(api, "MAX_IMPORT_BYTES", 100)
    body = as_file([deployment("CAD 1", [attending("A1")])])
    assert len(body) > 100
    sign_in(client, make_user("em", Role.EVIDENCE_MANAGER))
    big = client.post("/api/deployments/", body, content_type="application/json")
    assert big.status_code == 413 and big["Content-Type"] == "application/problem+json"
    path = tmp_path / "big.json"
    path.write_bytes(body)
    refused = CliRunner().invoke(cli, ["deployments", "import", str(path)])
    assert refused.exit_code == 1 and "at most 100" in refused.output
    assert not Deployment.objects.exists()


def test_the_api_tells_json_from_csv_by_the_body_when_the_type_says_neither(client) -> None:
    from overt.access.matrix import Role
    from overt.oversight.contract import CSV_COLUMNS
    from overt.testing.access import make_user, sign_in

    sign_in(client, make_user("em", Role.EVIDENCE_MANAGER))
    csv = ",".join(CSV_COLUMNS) + "\nR1,use-of-force,Camden,TSG,,2026-11-20T14:00:00Z,"
    csv += "2026-11-20T14:10:00Z,,,A1,,\n"
    made = client.post("/api/deployments/", csv.encode(), content_type="application/octet-stream")
    assert made.status_code == 200 and made.json()["created"] == 1
    body = as_file([deployment("CAD 1", [attending("A1")])])
    made = client.post("/api/deployments/", body, content_type="text/plain")
    assert made.status_code == 200 and made.json()["created"] == 1
