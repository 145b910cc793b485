"""The API for complaints, supervisor review, own outcomes and the published report, and
the report page: the same services as the CLI, refusals as problem+json."""

from __future__ import annotations

import io
import zipfile

import pytest
from oversight_support import at, officer, recording, z

from overt.access.matrix import Role
from overt.retention.models import Hold
from overt.testing.access import make_user, sign_in

pytestmark = pytest.mark.django_db


def test_complaint_register_link_close_and_figures(client) -> None:
    rec = recording(officer("A1"), at(0), at(10))
    sign_in(client, make_user("iopc", Role.INVESTIGATOR))
    made = client.post(
        "/api/complaints/",
        {
            "reference": "CO/1",
            "received_on": "2026-11-21",
            "occurred_from": z(at(0)),
            "occurred_to": z(at(5)),
            "officers": ["A1"],
        },
        content_type="application/json",
    )
    # Footage the investigator may not know of is not proposed (its id would tell it exists).
    assert made.status_code == 201 and made.json()["proposed"] == []
    # An investigator links only what they may know of: not assigned, so not found.
    hidden = client.post(
        "/api/complaints/CO/1/links/", {"recording": rec.pk}, content_type="application/json"
    )
    assert hidden.status_code == 404
    sign_in(client, make_user("em", Role.EVIDENCE_MANAGER))
    again = {"reference": "CO/2", "received_on": "2026-11-21", "officers": ["A1"]}
    again |= {"occurred_from": z(at(0)), "occurred_to": z(at(5))}
    proposed = client.post("/api/complaints/", again, content_type="application/json")
    assert proposed.json()["proposed"] == [rec.pk]  # the evidence manager sees it
    linked = client.post(
        "/api/complaints/CO/1/links/", {"recording": rec.pk}, content_type="application/json"
    )
    assert (
        linked.status_code == 201 and Hold.objects.get(pk=linked.json()["hold"]).kind == "complaint"
    )
    bad = client.post(
        "/api/complaints/CO/1/close/",
        {"outcome": "upheld", "closed_on": "soon"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["errors"] == {
        "closed_on": ["a date such as 2026-12-01"]
    }
    closed = client.post(
        "/api/complaints/CO/1/close/",
        {"outcome": "upheld", "closed_on": "2026-11-30"},
        content_type="application/json",
    )
    assert closed.status_code == 200 and Hold.objects.get().released_at is not None
    assert client.get("/api/complaints/figures/").json()["with_footage"] == 1
    twice = client.post("/api/complaints/", {"reference": "CO/1"}, content_type="application/json")
    assert twice.status_code == 400  # no dates: named before the duplicate is noticed


def test_review_draw_outcome_and_the_officers_own(client) -> None:
    a = officer("A1")
    rec = recording(a, at(0), at(10))
    sign_in(client, make_user("sgt", Role.SUPERVISOR, team="SCO19"))
    drawn = client.post(
        "/api/review/draws/",
        {"team": "SCO19", "week": "2026-11-20"},
        content_type="application/json",
    )
    assert drawn.status_code == 201 and drawn.json()["week"] == "2026-11-16"
    item = drawn.json()["items"][0]["item"]
    other = client.post(
        "/api/review/draws/", {"team": "TSG", "week": "2026-11-20"}, content_type="application/json"
    )
    assert other.status_code == 403  # a supervisor draws for their own team
    again = client.post(
        "/api/review/draws/",
        {"team": "SCO19", "week": "2026-11-18"},
        content_type="application/json",
    )
    assert again.status_code == 409
    wrong = client.post(
        f"/api/review/items/{item}/", {"codes": ["rude"]}, content_type="application/json"
    )
    assert wrong.status_code == 400
    done = client.post(
        f"/api/review/items/{item}/",
        {"codes": ["good-practice"], "note": "ok"},
        content_type="application/json",
    )
    assert done.status_code == 200
    sign_in(client, make_user("pc", Role.OFFICER, officer="A1"))
    assert client.get("/api/review/mine/").json()[0]["recording"] == rec.pk
    assert client.post("/api/review/draws/", {}, content_type="application/json").status_code == 403


def test_the_report_page_and_api_publish_a_zip(client) -> None:
    sign_in(client, make_user("em", Role.EVIDENCE_MANAGER))
    page = client.get("/oversight/report/")
    assert page.status_code == 200 and b"Publish and download" in page.content
    got = client.post("/oversight/report/", {"month": "2026-11"})
    assert got.status_code == 200 and got["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(got.content)).namelist()
    assert "transparency-report-2026-11/overt_verify_report.py" in names
    bad = client.post("/api/oversight/reports/", {"month": "Nov"}, content_type="application/json")
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    sign_in(client, make_user("sgt", Role.SUPERVISOR, team="SCO19"))
    assert client.get("/oversight/report/").status_code == 403


def _restrict(rec) -> None:
    from overt.access.models import AccessClass

    AccessClass.objects.create(recording=rec, level="restricted", set_by="test")


def test_the_compliance_api_names_only_footage_the_caller_may_know_of(client) -> None:
    # Hostile: a supervisor (her team's footage) read every matched recording's id from
    # GET /api/oversight/compliance/, including another team's and restricted footage.
    from oversight_support import ACTOR, as_file, attending, deployment

    from overt.oversight.deployments import import_deployments

    own = recording(officer("A1", team="SCO19"), at(-1), at(31))
    hidden = recording(officer("A2", team="SCO19"), at(-1), at(31))
    _restrict(hidden)
    other = recording(officer("T1", team="TSG"), at(-1), at(31))
    items = [
        deployment(
            "CAD 1",
            [attending(n, at(0), at(30)) for n in ("A1", "A2", "T1")],
        )
    ]
    import_deployments(as_file(items), actor=ACTOR)
    sign_in(client, make_user("sgt", Role.SUPERVISOR, team="SCO19"))
    got = client.get("/api/oversight/compliance/?from=2026-11-20&to=2026-11-20").json()
    rows = {r["officer"]: r for r in got["attendances"]}
    assert rows["A1"]["recordings"] == [own.pk]
    assert rows["A2"]["recordings"] == [] and rows["T1"]["recordings"] == []
    assert {r["status"] for r in rows.values()} == {"recorded"}  # the verdict is not hidden
    assert all(
        set(r)
        == {"deployment", "officer", "status", "activation_delay_s", "early_stop_s", "recordings"}
        for r in rows.values()
    )
    sign_in(client, make_user("em", Role.EVIDENCE_MANAGER))
    got = client.get("/api/oversight/compliance/?from=2026-11-20&to=2026-11-20").json()
    assert {r["officer"]: r["recordings"] for r in got["attendances"]}["T1"] == [other.pk]


def test_the_review_draw_api_names_only_footage_the_supervisor_may_know_of(client) -> None:
    # Hostile: the page listed only visible sampled recordings; the API named them all.
    seen = recording(officer("A1", team="SCO19"), at(0), at(10))
    hidden = recording(officer("A2", team="SCO19"), at(0), at(10))
    _restrict(hidden)
    sign_in(client, make_user("sgt", Role.SUPERVISOR, team="SCO19"))
    drawn = client.post(
        "/api/review/draws/",
        {"team": "SCO19", "week": "2026-11-20"},
        content_type="application/json",
    ).json()
    assert [i["recording"] for i in drawn["items"]] == [seen.pk] and drawn["hidden"] == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reference", "CO/\ud800"),
        ("borough", "Camden\u202e"),
        ("summary", "x\x00"),
        ("officers", ["A\ud800"]),
        ("reference", "CO/\u200b9"),  # looks exactly like CO/9
    ],
)
def test_a_complaint_with_unstorable_text_is_refused_not_a_500(client, field, value) -> None:
    # Hostile: a lone surrogate (valid JSON, "\ud800") could not be stored: a 500.
    sign_in(client, make_user("iopc", Role.INVESTIGATOR))
    body = {
        "reference": "CO/9",
        "received_on": "2026-11-21",
        "occurred_from": "2026-11-20T14:00:00Z",
        "occurred_to": "2026-11-20T14:20:00Z",
        "officers": ["A1"],
        field: value,
    }
    refused = client.post("/api/complaints/", body, content_type="application/json")
    assert refused.status_code == 400 and field in refused.json()["errors"]
    good = {
        **body,
        "reference": "CO/9",
        "borough": "Camden",
        "officers": ["A1"],
        "summary": "line one\nline two, with a ZWNJ: \u0645\u06cc\u200c\u0634\u0648\u062f",
    }
    ok = client.post(
        "/api/complaints/", {**good, "reference": "CO/10"}, content_type="application/json"
    )
    assert ok.status_code == 201
