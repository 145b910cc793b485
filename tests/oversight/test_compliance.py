"""Compliance over the catalogue: the CLI's rows and rates, clock offsets, unknown
officers and overlapping deployments; and the API's import and compliance endpoints."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from oversight_support import ACTOR, as_file, at, attending, deployment, officer, recording

from overt.access.matrix import Role
from overt.oversight.compliance import run
from overt.oversight.deployments import import_deployments
from overt.oversight.models import Verdict
from overt.testing.access import make_user, sign_in

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 20)
ROW_KEYS = {"deployment", "officer", "status", "activation_delay_s", "early_stop_s", "recordings"}


def scene() -> dict[str, int]:
    a, b, _c, d = officer("A1"), officer("B2"), officer("C3", team="TSG"), officer("D4")
    ids = {
        "a": recording(a, at(-1), at(31)).pk,  # from the outset
        "b": recording(b, at(3), at(31)).pk,  # 3 minutes late
        "d": recording(d, at(2), at(32), offset=120.0).pk,  # camera 2 min fast: on time
    }
    items = [
        deployment("CAD 1", [attending("A1", at(0), at(30)), attending("B2", at(0), at(30))]),
        deployment("CAD 2", [attending("C3", at(0), at(30))], borough="Camden", team="TSG"),
        deployment("CAD 3", [attending("D4", at(0), at(30)), attending("ZZ9", at(0), at(30))]),
    ]
    import_deployments(as_file(items), actor=ACTOR)
    return ids


def test_each_attendance_gets_its_verdict_and_rates() -> None:
    ids = scene()
    outcome = run(DAY, DAY)
    rows = {(j.deployment, j.officer): j for j in outcome.judged}
    assert rows[("CAD 1", "A1")].status == "recorded" and rows[("CAD 1", "A1")].recordings == (
        ids["a"],
    )
    assert (rows[("CAD 1", "B2")].status, rows[("CAD 1", "B2")].activation_delay_s) == ("late", 180)
    assert rows[("CAD 2", "C3")].status == "no-footage"
    assert rows[("CAD 3", "D4")].status == "recorded"  # the clock offset is taken off
    assert rows[("CAD 3", "ZZ9")].status == "no-footage"  # unknown to overt: no footage here
    westminster = next(r for r in outcome.rates["borough"] if r["borough"] == "Westminster")
    assert (westminster["attendances"], westminster["recorded"], westminster["late"]) == (4, 2, 1)
    assert westminster["compliance_rate"] == 0.5
    assert [r["month"] for r in outcome.rates["month"]] == ["2026-11"]
    assert Verdict.objects.count() == 5


def test_the_cli_prints_exactly_the_contract_rows(tmp_path) -> None:
    from overt.cli.main import cli

    scene()
    done = CliRunner().invoke(
        cli,
        [
            "oversight",
            "compliance",
            "--from",
            "2026-11-20",
            "--to",
            "2026-11-20",
            "--borough",
            "Camden",
            "--json",
        ],
    )
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert [set(r) for r in data["attendances"]] == [ROW_KEYS]
    assert data["attendances"][0] == {
        "deployment": "CAD 2",
        "officer": "C3",
        "status": "no-footage",
        "activation_delay_s": None,
        "early_stop_s": None,
        "recordings": [],
    }
    assert set(data["rates"]) == {"borough", "team", "month"}
    backwards = CliRunner().invoke(
        cli, ["oversight", "compliance", "--from", "2026-11-21", "--to", "2026-11-20"]
    )
    assert backwards.exit_code == 2 and "before" in backwards.output


def test_a_camera_clock_off_by_a_day_is_judged_by_its_recorded_offset() -> None:
    # Hostile: a camera whose clock is a day fast (or reset to a factory date) had its
    # camera times outside the window read by time, so a filmed attendance read as
    # no-footage although its clock offset was recorded.
    fast, slow, muted = officer("F1"), officer("S1"), officer("M1")
    day = 86_400.0
    a = recording(fast, at(-1 + 1440), at(31 + 1440), offset=day).pk
    b = recording(slow, at(-1 - 1440 * 400), at(31 - 1440 * 400), offset=-400 * day).pk
    c = recording(muted, at(-1 + 1440), at(31 + 1440), offset=day, audio=False).pk
    recording(fast, at(-1 + 1440), at(31 + 1440), offset=0.0)  # really tomorrow: not this one
    items = [
        deployment("CAD 1", [attending("F1", at(0), at(30)), attending("S1", at(0), at(30))]),
        deployment("CAD 2", [attending("M1", at(0), at(30))]),
    ]
    import_deployments(as_file(items), actor=ACTOR)
    judged = {j.officer: j for j in run(DAY, DAY).judged}
    assert (judged["F1"].status, judged["F1"].recordings) == ("recorded", (a,))
    assert (judged["S1"].status, judged["S1"].recordings) == ("recorded", (b,))
    assert (judged["M1"].status, judged["M1"].recordings, judged["M1"].muted_audio) == (
        "recorded",
        (c,),
        True,
    )


def test_overlapping_attendances_are_judged_each_on_their_own() -> None:
    a = officer("A1")
    rec = recording(a, at(0), at(60))
    import_deployments(
        as_file(
            [
                deployment("CAD 1", [attending("A1", at(0), at(30))]),
                deployment(
                    "CAD 2", [attending("A1", at(20), at(50))], arrived=at(20), ended=at(50)
                ),
            ]
        ),
        actor=ACTOR,
    )
    assert {(j.deployment, j.status, j.recordings) for j in run(DAY, DAY).judged} == {
        ("CAD 1", "recorded", (rec.pk,)),
        ("CAD 2", "recorded", (rec.pk,)),
    }


def test_the_api_imports_json_and_csv_and_refuses_bad_rows(client) -> None:
    sign_in(client, make_user("em", Role.EVIDENCE_MANAGER))
    body = as_file([deployment("CAD 1", [attending("A1")])])
    ok = client.post("/api/deployments/", body, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["created"] == 1
    again = client.post("/api/deployments/", body, content_type="application/json")
    assert again.json()["unchanged"] == 1
    bad = client.post("/api/deployments/", b'[{"reference": 1}]', content_type="application/json")
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    assert {
        "row": "deployment 1",
        "field": "reference",
        "detail": "must be a string",
    } in bad.json()["errors"]
    csv = (
        "reference,type,borough,team,authorised_at,arrived_at,ended_at,lat,lon,officer_number,"
        "officer_arrived_at,officer_departed_at\nR9,use-of-force,Camden,TSG,,2026-11-20T14:00:00Z,"
        "2026-11-20T14:10:00Z,,,A1,,\n"
    )
    made = client.post("/api/deployments/", csv.encode(), content_type="text/csv")
    assert made.status_code == 200 and made.json()["created"] == 1


def test_the_api_refuses_roles_without_the_capability(client) -> None:
    sign_in(client, make_user("pc", Role.OFFICER))
    refused = client.post("/api/deployments/", b"[]", content_type="application/json")
    assert refused.status_code == 403
    assert client.get("/api/oversight/compliance/?from=2026-11-20&to=2026-11-20").status_code == 403


def test_the_api_compliance_and_schema(client) -> None:
    scene()
    sign_in(client, make_user("sup", Role.SUPERVISOR, team="SCO19"))
    got = client.get("/api/oversight/compliance/?from=2026-11-20&to=2026-11-20")
    assert got.status_code == 200 and len(got.json()["attendances"]) == 5
    assert not Verdict.objects.exists()  # a GET stores nothing
    assert client.get("/api/oversight/compliance/?from=x&to=y").status_code == 400
    schema = client.get("/api/schema/?format=json").json()
    assert "post" in schema["paths"]["/api/deployments/"]
