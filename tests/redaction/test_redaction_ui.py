"""The reviewer pages, through Django's test client: login, start, review, render."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from overt.evidence.models import Original
from overt.ingest.services import ingest_file
from overt.jobs.models import Job
from overt.redaction import services
from overt.redaction.evalset import make_eval_clip
from overt.redaction.models import AudioRange, Box, RedactionProject, Render, Track
from overt.testing.access import make_user, sign_in


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("redaction-ui") / "faces.mp4"
    make_eval_clip(
        path, seed=41, faces=2, width=640, height=360, duration_s=1.2, sizes=(60.0, 100.0)
    )
    return path


@pytest.fixture
def reviewer(db) -> Client:
    user = make_user("dana", "evidence-manager", password="correct horse battery")
    client = Client()
    assert client.login(username="dana", password="correct horse battery")
    return sign_in(client, user)


@pytest.fixture
def project(people, face_clip) -> RedactionProject:
    result = ingest_file(face_clip, officer_number="MP100", device_serial="CAM-1")
    original = Original.objects.get(pk=result.id)
    project = services.create_project(original, "alice", plates=False, detect=False)
    services.run_detection(project.pk)
    project.refresh_from_db()
    return project


def test_pages_need_a_login(db) -> None:
    response = Client().get("/redaction/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Client().post("/redaction/new", {"original": 1}).status_code == 302


def test_start_a_project_from_the_list(reviewer, people, face_clip) -> None:
    result = ingest_file(face_clip, officer_number="MP100", device_serial="CAM-1")
    page = reviewer.get("/redaction/")
    assert page.status_code == 200 and b"Start a project" in page.content
    assert f'value="{result.id}"'.encode() in page.content
    response = reviewer.post(
        "/redaction/new", {"original": result.id, "title": "FOI 118", "mode": "pixelate"}
    )
    project = RedactionProject.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/redaction/{project.pk}/"
    assert (project.title, project.mode, project.plates, project.created_by) == (
        "FOI 118",
        "pixelate",
        False,
        "dana",
    )
    assert Job.objects.filter(kind="redaction.detect").count() == 1
    listing = reviewer.get("/redaction/")
    assert b"FOI 118" in listing.content


def test_the_project_page_lists_tracks_with_thumbnails(reviewer, project) -> None:
    page = reviewer.get(f"/redaction/{project.pk}/")
    assert page.status_code == 200
    tracks = list(project.tracks.all())
    assert tracks
    for track in tracks:
        assert f'id="track-{track.number}"'.encode() in page.content
    # No viewing grant yet: the footage is not offered; the reason is asked right here.
    assert f'action="/redaction/{project.pk}/view-reason"'.encode() in page.content
    assert b'id="player"' not in page.content
    assert b'src="/static/redaction/project.js"' in page.content and b"<script>" not in page.content
    thumb = reviewer.get(f"/redaction/{project.pk}/tracks/{tracks[0].number}/thumb.jpg")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert thumb.content[:2] == b"\xff\xd8"
    data = reviewer.get(f"/redaction/{project.pk}/data.json").json()
    assert data["status"] == "review" and len(data["tracks"]) == len(tracks)
    assert all(t["boxes"] for t in data["tracks"])


def test_review_actions_by_form_and_by_fetch(reviewer, project) -> None:
    track = project.tracks.first()
    base = f"/redaction/{project.pk}"
    response = reviewer.post(f"{base}/tracks/{track.number}/include", {"included": "0"})
    assert response.status_code == 302 and response["Location"].endswith(f"#track-{track.number}")
    assert not Track.objects.get(pk=track.pk).included
    answer = reviewer.post(
        f"{base}/tracks/{track.number}/include",
        {"included": "1"},
        headers={"Accept": "application/json"},
    ).json()
    assert answer == {"ok": True, "included": True}

    answer = reviewer.post(
        f"{base}/tracks/{track.number}/keyframes",
        {"t": "0.4", "x1": "0.1", "y1": "0.1", "x2": "0.3", "y2": "0.4"},
        headers={"Accept": "application/json"},
    ).json()
    keyframe = Box.objects.get(pk=answer["keyframe"])
    assert keyframe.manual and keyframe.t == pytest.approx(0.4)
    refused = reviewer.post(
        f"{base}/tracks/{track.number}/keyframes",
        {"t": "0.4", "x1": "0.5", "y1": "0.1", "x2": "0.5", "y2": "0.4"},
    )
    assert refused.status_code == 400 and b"width and a height" in refused.content
    not_a_number = reviewer.post(
        f"{base}/tracks/{track.number}/keyframes",
        {"t": "soon"},
        headers={"Accept": "application/json"},
    )
    assert not_a_number.status_code == 400 and "must be a number" in not_a_number.json()["error"]
    assert reviewer.post(f"{base}/keyframes/{keyframe.pk}/delete").status_code == 302
    assert not Box.objects.filter(pk=keyframe.pk).exists()

    added = reviewer.post(
        f"{base}/tracks/new",
        {"t": "0.2", "x1": "0.6", "y1": "0.6", "x2": "0.8", "y2": "0.9"},
        headers={"Accept": "application/json"},
    ).json()
    manual = Track.objects.get(project=project, number=added["track"])
    assert manual.label == "manual" and manual.boxes.count() == 2

    assert (
        reviewer.post(
            f"{base}/audio", {"start_s": "0.2", "end_s": "0.5", "mode": "bleep"}
        ).status_code
        == 302
    )
    item = AudioRange.objects.get(project=project)
    assert (item.mode, item.created_by) == ("bleep", "dana")
    assert reviewer.post(f"{base}/audio", {"start_s": "0.5", "end_s": "0.2"}).status_code == 400
    assert reviewer.post(f"{base}/audio/{item.pk}/delete").status_code == 302
    assert not AudioRange.objects.exists()

    assert reviewer.post(f"{base}/render").status_code == 302
    render = Render.objects.get(project=project)
    assert render.requested_by == "dana" and render.derivative is None
    assert Job.objects.filter(kind="redaction.render").count() == 1
    page = reviewer.get(f"{base}/")
    assert b"Copy 1" in page.content and b"rendering" in page.content


def test_get_is_refused_on_changes_and_unknown_projects_are_404(reviewer, project) -> None:
    assert reviewer.get(f"/redaction/{project.pk}/render").status_code == 405
    assert reviewer.get("/redaction/999999/").status_code == 404


def test_a_role_that_may_not_redact_is_refused(project) -> None:
    auditor = sign_in(Client(), make_user("audrey", "auditor", password="correct horse battery"))
    # The auditor may not even list the footage: 404, as for no project (issue 11 item 3).
    assert auditor.get(f"/redaction/{project.pk}/").status_code == 404
    assert auditor.post(f"/redaction/{project.pk}/render").status_code == 404
    assert not Render.objects.exists()
    listing = auditor.get("/redaction/")
    assert listing.status_code == 200 and str(project) not in listing.content.decode()


def test_the_viewing_reason_is_given_on_the_project_page(reviewer, project) -> None:
    from overt.access.justify import categories
    from overt.custody.models import CustodyEntry

    url = f"/redaction/{project.pk}/view-reason"
    refused = reviewer.post(url, {"category": "not on the list", "text": "x"})
    assert refused.status_code == 400 and b"Your reason was not recorded" in refused.content
    done = reviewer.post(url, {"category": categories()[0], "text": "FOI 118 release"})
    assert done.status_code == 302 and done["Location"].endswith("#stage")
    page = reviewer.get(f"/redaction/{project.pk}/")
    assert b'id="view-reason"' not in page.content  # granted: the player (or its proxy's
    # progress) shows instead
    views = CustodyEntry.objects.filter(object_sha256=project.original.sha256, action="view")
    assert views.count() == 1 and "FOI 118 release" in views.get().entry


def test_tracks_are_left_out_and_merged_in_bulk_from_the_page(reviewer, project) -> None:
    numbers = list(project.tracks.order_by("number").values_list("number", flat=True))
    url = f"/redaction/{project.pk}/tracks/bulk"
    left = reviewer.post(url, {"action": "leave-out", "tracks": numbers})
    assert left.status_code == 302
    assert not project.tracks.filter(included=True).exists()
    data = reviewer.get(f"/redaction/{project.pk}/data.json").json()
    assert len(data["unmasked"]) == len(numbers) and "left out" in data["unmasked"][0]["why"]
    bad = reviewer.post(url, {"action": "merge", "tracks": numbers[:1]})
    assert bad.status_code == 400
    unknown = reviewer.post(url, {"action": "explode", "tracks": numbers})
    assert unknown.status_code == 400
