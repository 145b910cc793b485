"""The read-only API: recordings with the library's filters, originals, jobs, schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from overt.evidence.models import (
    Category,
    Derivative,
    Device,
    Incident,
    Marker,
    Officer,
    Original,
    Recording,
    Tag,
)
from overt.jobs.models import Job
from overt.testing.access import make_user, sign_in

TRIGGER = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"


@pytest.fixture
def scene(db: None) -> dict:
    asha = Officer.objects.create(number="MP1", name="PC Asha Patel", team="SFC")
    tom = Officer.objects.create(number="MP2", name="PC Tom Hughes")
    cam_a = Device.objects.create(serial="CAM-A", model="Axis W120", firmware="11.5.1")
    cam_b = Device.objects.create(serial="CAM-B")
    cad = Incident.objects.create(reference="CAD 1/NOV", title="Armed deployment")
    firearms = Category.objects.create(name="Firearms")
    urgent = Tag.objects.create(name="urgent")
    armed = Recording.objects.create(
        title="Armed deployment",
        officer=asha,
        device=cam_a,
        incident=cad,
        trigger_on_at=TRIGGER,
        pre_event_seconds=30,
    )
    armed.categories.add(firearms)
    armed.tags.add(urgent)
    clips = []
    for n in range(2):
        clips.append(
            Original.objects.create(
                sha256=f"{n + 1:064x}",
                size=1000,
                recording=armed,
                filename=f"clip-{n}.mp4",
                source=Original.Source.CLI,
                duration_s=20.0,
                started_at=TRIGGER - timedelta(seconds=30) + timedelta(seconds=20 * n),
                playable=True,
            )
        )
    poster = Derivative.objects.create(
        original=clips[0],
        kind="poster",
        sha256="f" * 64,
        size=2048,
        content_type="image/jpeg",
        generator="overt.media",
        generator_version="recipe=1",
    )
    job = Job.objects.create(
        kind="media.proxy",
        key=f"media.proxy:original:{clips[1].pk}",
        status=Job.Status.RUNNING,
        progress=0.25,
        attempts=1,
        message="encoding",
    )
    Job.objects.create(
        kind="media.poster",
        key=f"media.poster:original:{clips[1].pk}",
        status=Job.Status.FAILED,
        attempts=5,
        last_error="no frames",
    )
    marker = Marker.objects.create(
        recording=armed, at=clips[1].started_at + timedelta(seconds=5.5), text="Subject detained"
    )
    stop = Recording.objects.create(
        title="Stop and search",
        officer=tom,
        device=cam_b,
        trigger_on_at=TRIGGER + timedelta(days=1),
        notes="smell of cannabis",
    )
    Original.objects.create(
        sha256="e" * 64,
        size=10,
        recording=stop,
        filename="cut.mp4",
        source=Original.Source.CLI,
        playable=False,
        problem="truncated",
    )
    return {
        "armed": armed,
        "stop": stop,
        "clips": clips,
        "poster": poster,
        "job": job,
        "marker": marker,
    }


@pytest.fixture
def api(client: Client, django_user_model) -> Client:
    return sign_in(client, make_user("api-user", "evidence-manager"))


def titles(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/api/recordings/{query}")
    assert response.status_code == 200, response.content
    return [r["title"] for r in response.json()["results"]]


@pytest.mark.parametrize(
    "url", ["/api/recordings/", "/api/recordings/1/", "/api/originals/1/", "/api/jobs/"]
)
def test_unauthenticated_requests_get_problem_json_not_a_redirect(client: Client, db, url) -> None:
    response = client.get(url)
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == response.status_code and body["detail"]


def test_recording_list(api: Client, scene) -> None:
    response = api.get("/api/recordings/")
    page = response.json()
    assert page["count"] == 2 and page["next"] is None
    stop, armed = page["results"]
    assert stop["title"] == "Stop and search" and stop["playable"] is False
    assert armed["officer"] == {"number": "MP1", "name": "PC Asha Patel", "team": "SFC"}
    assert armed["device"]["serial"] == "CAM-A"
    assert armed["incident"]["reference"] == "CAD 1/NOV"
    assert armed["trigger_on_at"] == "2026-11-20T14:00:00Z"
    assert armed["clips"] == 2 and armed["duration_s"] == 40.0 and armed["playable"] is True


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?officer=MP1", ["Armed deployment"]),
        ("?device=CAM-B", ["Stop and search"]),
        ("?incident=CAD%201/NOV", ["Armed deployment"]),
        ("?category=Firearms", ["Armed deployment"]),
        ("?tag=urgent", ["Armed deployment"]),
        ("?since=2026-11-21", ["Stop and search"]),
        ("?until=2026-11-20", ["Armed deployment"]),
        ("?since=2026-11-20T13:59:59Z&until=2026-11-20T14:00:01Z", ["Armed deployment"]),
        ("?q=CANNABIS", ["Stop and search"]),
        ("?q=detained", ["Armed deployment"]),
        ("?playable=false", ["Stop and search"]),
        ("?playable=true", ["Armed deployment"]),
        ("?officer=MP2&device=CAM-B&q=search", ["Stop and search"]),
        ("?officer=MP1&playable=false", []),
    ],
)
def test_recording_filters(api: Client, scene, query, expected) -> None:
    assert titles(api, query) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [("?since=soon", "since"), ("?until=2026-02-30", "until"), ("?playable=perhaps", "playable")],
)
def test_bad_filter_is_a_400_problem(api: Client, scene, query, field) -> None:
    response = api.get(f"/api/recordings/{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 400 and body["title"] == "Bad Request"
    assert body["detail"].startswith(f"{field}: ")


def test_limit_offset_pagination(api: Client, scene) -> None:
    page = api.get("/api/recordings/?limit=1").json()
    assert page["count"] == 2 and len(page["results"]) == 1
    assert "offset=1" in page["next"]
    assert titles(api, "?limit=1&offset=1") == ["Armed deployment"]


def test_recording_detail(api: Client, scene) -> None:
    armed, clips = scene["armed"], scene["clips"]
    response = api.get(f"/api/recordings/{armed.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["pre_event_seconds"] == 30
    assert body["categories"] == ["Firearms"] and body["tags"] == ["urgent"]
    assert [o["id"] for o in body["originals"]] == [c.pk for c in clips]
    first = body["originals"][0]
    assert first["derivatives"] == [
        {
            "id": scene["poster"].pk,
            "kind": "poster",
            "sha256": "f" * 64,
            "size": 2048,
            "content_type": "image/jpeg",
            "generator": "overt.media",
            "generator_version": "recipe=1",
            "facts": {},
            "created_at": first["derivatives"][0]["created_at"],
            "url": f"/media/derivatives/{scene['poster'].pk}",
        }
    ]
    assert first["jobs"] == []
    second = body["originals"][1]
    assert {j["kind"]: j["status"] for j in second["jobs"]} == {
        "media.proxy": "running",
        "media.poster": "failed",
    }
    assert [m["text"] for m in body["markers"]] == ["Subject detained"]
    marker = body["markers"][0]
    assert marker["offset_s"] == pytest.approx(-4.5)  # from trigger on: in the pre-event buffer
    assert marker["clip"] == {"original": clips[1].pk, "offset_s": pytest.approx(5.5)}
    assert len(body["jobs"]) == 2


def test_recording_detail_missing_is_a_404_problem(api: Client, db) -> None:
    response = api.get("/api/recordings/424242/")
    assert response.status_code == 404 and response["Content-Type"] == PROBLEM


def test_original_detail(api: Client, scene) -> None:
    clip = scene["clips"][1]
    body = api.get(f"/api/originals/{clip.pk}/").json()
    assert body["sha256"] == clip.sha256 and body["recording"] == scene["armed"].pk
    assert body["playable"] is True and body["duration_s"] == 20.0
    proxy_job = next(j for j in body["jobs"] if j["kind"] == "media.proxy")
    assert proxy_job["progress"] == 0.25 and proxy_job["subject"] == f"original:{clip.pk}"


def test_jobs_show_progress_and_filter_by_status(api: Client, scene) -> None:
    page = api.get("/api/jobs/").json()
    assert page["count"] == 2
    running = next(j for j in page["results"] if j["status"] == "running")
    assert running == {
        **running,
        "id": scene["job"].pk,
        "kind": "media.proxy",
        "subject": f"original:{scene['clips'][1].pk}",
        "progress": 0.25,
        "message": "encoding",
        "attempts": 1,
        "max_attempts": 5,
        "last_error": "",
    }
    failed = api.get("/api/jobs/?status=failed").json()["results"]
    assert [(j["kind"], j["last_error"]) for j in failed] == [("media.poster", "no frames")]
    assert api.get("/api/jobs/?kind=media.proxy").json()["count"] == 1
    bad = api.get("/api/jobs/?status=stuck")
    assert bad.status_code == 400 and bad["Content-Type"] == PROBLEM
    assert "stuck" in bad.json()["detail"]


def test_a_nul_in_the_job_kind_filter_is_a_400_problem(api: Client, scene) -> None:
    """PostgreSQL refuses a NUL in text: this filter was a 500 on the scaled engines."""
    bad = api.get("/api/jobs/?kind=media.proxy%00")
    assert bad.status_code == 400 and bad["Content-Type"] == PROBLEM
    assert bad.json()["detail"].startswith("kind: ")


def test_schema_lists_the_endpoints(api: Client, db) -> None:
    response = api.get("/api/schema/", headers={"accept": "application/json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for url in ["/api/recordings/", "/api/recordings/{id}/", "/api/originals/{id}/", "/api/jobs/"]:
        assert "get" in paths[url]
    names = {p["name"] for p in paths["/api/recordings/"]["get"]["parameters"]}
    assert {"officer", "device", "incident", "category", "tag", "since", "until", "q"} <= names
    assert {"playable", "limit", "offset"} <= names
    assert "400" in paths["/api/recordings/"]["get"]["responses"]


def test_schema_of_these_endpoints_has_no_warnings_or_errors(db) -> None:
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/", include("overt.api.urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert len(schema["paths"]) == 12  # the read-only four, and the review workspace's writes
    assert dict(GENERATOR_STATS._warn_cache) == {}
    assert dict(GENERATOR_STATS._error_cache) == {}
