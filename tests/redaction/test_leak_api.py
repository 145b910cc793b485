"""/api/redaction/...: a rendered copy's leak findings, decisions on them and the unmasked
moments over HTTP, through the same service as the page and `overt redaction` (custody
entry, manifest), with the page's access rules. Real store, worker, model and render."""

from __future__ import annotations

import pytest
from django.test import Client
from leak_support import steps

from overt.custody.models import CustodyEntry
from overt.evidence.models import Original
from overt.ingest.services import ingest_file
from overt.jobs.worker import run_worker
from overt.redaction import bulk, rendering, services
from overt.testing.access import make_user, sign_in

PROBLEM = "application/problem+json"


def refusals(sha256: str) -> int:
    return CustodyEntry.objects.filter(object_sha256=sha256, action="access-refused").count()


@pytest.mark.django_db(transaction=True)
def test_findings_are_listed_and_decided_over_the_api(people, big_faces) -> None:
    result = ingest_file(big_faces, officer_number="MP100", device_serial="CAM-1")
    original = Original.objects.get(pk=result.id)
    dana = make_user("dana", "evidence-manager")
    owner = make_user("olga", "officer", officer="MP100")  # sees her footage, may not redact
    otto = make_user("otto", "investigator")  # not assigned: may not know the recording
    project = services.create_project(original, "dana", title="press")
    run_worker(burst=True)
    project.refresh_from_db()
    faces = [t.number for t in project.tracks.filter(label="face")]
    assert faces
    bulk.set_included_many(project, faces, False, "dana")  # the copy will leak
    rendering.request_render(project, "dana")
    run_worker(burst=True)
    copy = project.renders.get()
    base = f"/api/redaction/{project.pk}"
    client = sign_in(Client(), dana)

    listed = client.get(f"{base}/renders/{copy.number}/findings/")
    assert listed.status_code == 200, listed.content
    body = listed.json()
    assert body["releasable"] is False and body["blockers"] and body["findings"]
    assert body["derivative"] == copy.derivative_id and "centerface" in body["detector"]
    assert {f["status"] for f in body["findings"]} == {"open"}
    moments = client.get(f"{base}/unmasked/")
    assert moments.status_code == 200
    assert any("leak finding" in m["why"] for m in moments.json())
    assert any("left out" in m["why"] for m in moments.json())

    first, *rest = [f["number"] for f in body["findings"]]
    url = f"{base}/renders/{copy.number}/findings/{first}/decision/"
    decided = client.post(url, {"decision": "not-a-face", "note": "poster"}, "application/json")
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "not-a-face" and decided.json()["decided_by"] == "dana"
    entry = [s for s in steps(original.sha256) if s["step"] == "leak-finding"][-1]
    assert entry["finding"] == first and entry["note"] == "poster"
    copy.derivative.refresh_from_db()
    manifest = copy.derivative.facts["leak_check"]["findings"]
    assert next(f for f in manifest if f["number"] == first)["decided_by"] == "dana"

    # The service's answers: decided before 409, a word outside the vocabulary 400.
    again = client.post(url, {"decision": "fix"}, "application/json")
    assert again.status_code == 409 and again["Content-Type"] == PROBLEM
    assert "already decided" in again.json()["detail"]
    if rest:
        other = f"{base}/renders/{copy.number}/findings/{rest[0]}/decision/"
        bad = client.post(other, {"decision": "maybe"}, "application/json")
        assert bad.status_code == 400 and bad["Content-Type"] == PROBLEM
        fixed = client.post(other, {"decision": "fix"}, "application/json")
        assert fixed.status_code == 200 and fixed.json()["fixed_by_track"] is not None
        assert fixed.json()["releasable"] is False  # the face is in this copy's pixels
    for number in rest[1:]:
        client.post(
            f"{base}/renders/{copy.number}/findings/{number}/decision/",
            {"decision": "not-a-face"},
            "application/json",
        )
    if not rest:
        assert client.get(f"{base}/renders/{copy.number}/findings/").json()["releasable"]

    # Objects that are not there: 404 problem+json.
    for missing in (
        f"{base}/renders/{copy.number}/findings/999/decision/",
        f"{base}/renders/99/findings/1/decision/",
        "/api/redaction/424242/renders/1/findings/1/decision/",
    ):
        answer = client.post(missing, {"decision": "fix"}, "application/json")
        assert answer.status_code == 404 and answer["Content-Type"] == PROBLEM, missing
    assert client.get(f"{base}/renders/99/findings/").status_code == 404

    # Who may see the recording but not redact it: 403, logged; the finding unchanged.
    wearer = sign_in(Client(), owner)
    before = refusals(original.sha256)
    refused = wearer.get(f"{base}/renders/{copy.number}/findings/")
    assert refused.status_code == 403 and refused["Content-Type"] == PROBLEM
    assert refusals(original.sha256) == before + 1
    assert wearer.get(f"{base}/unmasked/").status_code == 403
    open_one = f"{base}/renders/{copy.number}/findings/{rest[-1] if rest else first}/decision/"
    assert wearer.post(open_one, {"decision": "fix"}, "application/json").status_code == 403

    # Who may not know of the recording: the same answer as for no project at all.
    stranger = sign_in(Client(), otto)
    for path, method, data in (
        (f"{base}/renders/{copy.number}/findings/", "get", None),
        (f"{base}/unmasked/", "get", None),
        (f"{base}/renders/{copy.number}/findings/{first}/decision/", "post", {"decision": "fix"}),
    ):
        hidden = getattr(stranger, method)(path, data, "application/json")
        ghost = getattr(stranger, method)(
            path.replace(f"/{project.pk}/", "/424242/"), data, "application/json"
        )
        assert hidden.status_code == ghost.status_code == 404, path
        assert hidden.json()["title"] == ghost.json()["title"]
        assert hidden.json()["detail"].replace(str(project.pk), "N") == ghost.json()[
            "detail"
        ].replace("424242", "N")
    assert client.get(f"{base}/unmasked/").status_code == 200  # dana still may


@pytest.mark.django_db
def test_the_api_asks_for_a_signed_in_user(people) -> None:
    answer = Client().get("/api/redaction/1/unmasked/")
    assert answer.status_code in (401, 403) and answer["Content-Type"] == PROBLEM
