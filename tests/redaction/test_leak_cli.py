"""`overt redaction findings / decide / unmasked`: the leak findings of a project's copy
from the shell, through the same service as the page (custody entry and manifest)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from leak_support import steps

from overt.cli.main import cli
from overt.evidence.models import Original
from overt.ingest.services import ingest_file
from overt.jobs.worker import run_worker
from overt.redaction import bulk, rendering, services
from overt.testing.access import make_user


@pytest.fixture
def original(people, big_faces) -> Original:
    result = ingest_file(big_faces, officer_number="MP100", device_serial="CAM-1")
    return Original.objects.get(pk=result.id)


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(cli, ["redaction", *args])
    assert "Traceback" not in done.output
    return done.exit_code, done.output


@pytest.mark.django_db(transaction=True)
def test_findings_are_listed_decided_and_logged_from_the_shell(original) -> None:
    make_user("dana", "evidence-manager")
    make_user("otto", "investigator")
    project = services.create_project(original, "dana", title="press")
    run_worker(burst=True)
    project.refresh_from_db()
    faces = [t.number for t in project.tracks.filter(label="face")]
    assert faces
    bulk.set_included_many(project, faces, False, "dana")  # the copy will leak
    rendering.request_render(project, "dana")
    run_worker(burst=True)

    code, out = run("findings", str(project.pk), "--as", "dana", "--json")
    listed = json.loads(out)
    assert code == 1  # not releasable: exit 1, the JSON still printed
    assert listed["releasable"] is False and listed["findings"]
    assert {f["status"] for f in listed["findings"]} == {"open"}
    assert "centerface" in listed["detector"]
    code, out = run("unmasked", str(project.pk), "--as", "dana", "--json")
    assert code == 0 and any("leak finding" in m["why"] for m in json.loads(out))

    first = listed["findings"][0]["number"]
    code, out = run(
        "decide", str(project.pk), str(first), "not-a-face", "--as", "dana", "--note", "poster"
    )
    assert code == 0 and "not-a-face" in out
    decided = [s for s in steps(original.sha256) if s["step"] == "leak-finding"]
    assert decided[-1]["finding"] == first and decided[-1]["note"] == "poster"
    render = project.renders.get(number=listed["render"])
    manifest = render.derivative.facts["leak_check"]["findings"]
    assert next(f for f in manifest if f["number"] == first)["decided_by"] == "dana"
    for finding in listed["findings"][1:]:
        run("decide", str(project.pk), str(finding["number"]), "not-a-face", "--as", "dana")
    code, out = run("findings", str(project.pk), "--as", "dana")
    assert code == 0 and "releasable" in out and "NOT" not in out

    # Bad input: a clear message and a usage or failure status, never a traceback.
    code, out = run("decide", str(project.pk), str(first), "fix", "--as", "dana")
    assert code == 1 and "already decided" in out
    code, out = run("decide", str(project.pk), "999", "fix", "--as", "dana")
    assert code == 2 and "no finding 999" in out
    code, out = run("findings", "424242", "--as", "dana")
    assert code == 2 and "no redaction project 424242" in out
    code, out = run("findings", str(project.pk), "--as", "nobody")
    assert code == 2 and "no user 'nobody'" in out
    code, out = run("decide", str(project.pk), str(first), "not-a-face", "--as", "otto")
    assert code == 1 and "may not redact" in out
