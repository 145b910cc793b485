"""The review pages: login, the recordings library, a recording (justify, then play), jobs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from overt.custody.models import CustodyEntry
from overt.custody.services import entries_for
from overt.evidence.models import (
    Category,
    Derivative,
    Device,
    Incident,
    Marker,
    Officer,
    Original,
    Recording,
)
from overt.jobs.models import Job
from overt.testing.access import make_user, sign_in

TRIGGER = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # 11:00 BST
CLIP_1 = TRIGGER - timedelta(seconds=30)  # the pre-event buffer starts the first clip
CLIP_2 = CLIP_1 + timedelta(seconds=20)
DASH, TIMES = "\N{EN DASH}", "\N{MULTIPLICATION SIGN}"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def sha(n: int) -> str:
    return f"{n:064x}"


def original(recording: Recording, n: int, started_at: datetime, **kw) -> Original:
    defaults = dict(
        sha256=sha(n),
        size=123_456,
        recording=recording,
        filename=f"clip-{n}.mp4",
        source=Original.Source.CLI,
        container="mov,mp4,m4a,3gp,3g2,mj2",
        video_codec="h264",
        audio_codec="aac",
        duration_s=20.0,
        width=320,
        height=180,
        fps=25.0,
        started_at=started_at,
        playable=True,
    )
    return Original.objects.create(**{**defaults, **kw})


def derivative(of: Original, kind: str, n: int, content_type: str) -> Derivative:
    return Derivative.objects.create(
        original=of,
        kind=kind,
        sha256=sha(n),
        size=4096,
        content_type=content_type,
        generator="overt.media",
        generator_version="recipe=1;test=1",
    )


@pytest.fixture
def scene(db: None) -> dict:
    asha = Officer.objects.create(number="MP1", name="PC Asha Patel")
    tom = Officer.objects.create(number="MP2", name="PC Tom Hughes")
    cam_a = Device.objects.create(serial="CAM-A")
    cam_b = Device.objects.create(serial="CAM-B")
    cad = Incident.objects.create(reference="CAD 1/JUL", title="Armed deployment", kind="armed")
    firearms = Category.objects.create(name="Firearms")
    armed = Recording.objects.create(
        title="Armed deployment",
        officer=asha,
        device=cam_a,
        incident=cad,
        trigger_on_at=TRIGGER,
        trigger_off_at=TRIGGER + timedelta(seconds=15),
        trigger_on_reason="weapon-drawn",
        trigger_off_reason="manual",
        pre_event_seconds=30,
        start_latitude=51.50141,
        start_longitude=-0.14189,
    )
    armed.categories.add(firearms)
    first = original(armed, 1, CLIP_1)
    second = original(armed, 2, CLIP_2)
    proxy = derivative(first, "proxy", 101, "video/mp4")
    poster = derivative(first, "poster", 102, "image/jpeg")
    Job.objects.create(
        kind="media.proxy",
        key=f"media.proxy:original:{second.pk}",
        status=Job.Status.RETRYING,
        progress=0.42,
        attempts=2,
        max_attempts=5,
        last_error="decoder gave up at frame 12",
    )
    Marker.objects.create(
        recording=armed, at=CLIP_1 + timedelta(seconds=3), text="Subject challenged"
    )
    Marker.objects.create(
        recording=armed, at=CLIP_2 + timedelta(seconds=12.4), text="Subject detained"
    )
    broken = Recording.objects.create(
        title="Dropped camera", officer=tom, device=cam_b, trigger_on_at=TRIGGER + timedelta(days=1)
    )
    original(
        broken,
        3,
        TRIGGER + timedelta(days=1),
        playable=False,
        problem="incomplete MP4: no 'moov' index box",
        container="",
        video_codec="",
        audio_codec="",
        duration_s=None,
    )
    stop = Recording.objects.create(
        title="Stop and search",
        officer=tom,
        device=cam_a,
        trigger_on_at=TRIGGER - timedelta(days=1),
        notes="Grounds: smell of cannabis",
    )
    return {
        "armed": armed,
        "broken": broken,
        "stop": stop,
        "first": first,
        "second": second,
        "proxy": proxy,
        "poster": poster,
    }


@pytest.fixture
def alice(client: Client, django_user_model) -> Client:
    return sign_in(client, make_user("alice", "evidence-manager"))


def view_entries() -> list[dict]:
    return [json.loads(e.entry) for e in CustodyEntry.objects.filter(action="view")]


def page(response) -> str:
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), "inline script"
    assert not INLINE_HANDLER.search(html), "inline event handler"
    return html


# --- login ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/recordings/1/", "/jobs/", "/?officer=MP1"])
def test_pages_redirect_to_the_login_form(client: Client, db, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_log_in_and_out(client: Client, django_user_model) -> None:
    django_user_model.objects.create_user("bob", password="correct horse battery")
    form = page(client.get("/login/"))
    assert '<label for="id_username">Username</label>' in form
    assert '<label for="id_password">Password</label>' in form
    refused = client.post("/login/", {"username": "bob", "password": "wrong"})
    assert refused.status_code == 200 and 'role="alert"' in refused.content.decode()
    response = client.post("/login/", {"username": "bob", "password": "correct horse battery"})
    assert response.status_code == 302 and response["Location"] == "/home/"
    assert client.get("/").status_code == 200
    assert client.get("/logout/").status_code == 405  # logging out takes a POST
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


# --- library ----------------------------------------------------------------------------


def listed(client: Client, query: str = "") -> list[str]:
    html = page(client.get(f"/{query}"))
    return re.findall(r'<th scope="row"><a href="/recordings/\d+/">([^<]+)</a>', html)


def test_library_lists_newest_trigger_first_with_the_facts(alice: Client, scene) -> None:
    html = page(alice.get("/"))
    assert listed(alice) == ["Dropped camera", "Armed deployment", "Stop and search"]
    assert "1 Jul 2026, 11:00:00 BST" in html  # trigger-on time in Europe/London
    assert f'src="/media/derivatives/{scene["poster"].pk}/thumbnail"' in html  # list picture
    assert "CAD 1/JUL" in html and "CAM-A" in html and "PC Asha Patel" in html
    assert "0:40" in html  # two 20 s clips
    assert html.count("NOT PLAYABLE") == 1
    assert f"Recordings 1{DASH}3 of 3" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?officer=MP2", ["Dropped camera", "Stop and search"]),
        ("?device=CAM-B", ["Dropped camera"]),
        ("?incident=CAD+1%2FJUL", ["Armed deployment"]),
        ("?category=Firearms", ["Armed deployment"]),
        ("?since=2026-07-01&until=2026-07-01", ["Armed deployment"]),
        ("?until=2026-06-30", ["Stop and search"]),
        ("?q=cannabis", ["Stop and search"]),
        ("?q=detained", ["Armed deployment"]),  # marker text
        ("?playable=false", ["Dropped camera"]),
        ("?officer=MP2&device=CAM-A", ["Stop and search"]),
        ("?officer=MP2&since=2026-07-01&q=camera", ["Dropped camera"]),
        ("?officer=MP1&device=CAM-B", []),
    ],
)
def test_library_filters(alice: Client, scene, query: str, expected: list[str]) -> None:
    assert listed(alice, query) == expected


def test_library_keeps_the_chosen_filters_in_the_form(alice: Client, scene) -> None:
    html = page(alice.get("/?officer=MP2&q=search"))
    assert '<option value="MP2" selected>' in html
    assert 'name="q" type="search" value="search"' in html


def test_bad_filter_is_a_form_error(alice: Client, scene) -> None:
    response = alice.get("/?since=2026-02-30")
    assert response.status_code == 400
    html = page(response)
    assert "The filter could not be applied" in html
    assert "since: not a date or date-time" in html
    assert (
        'id="filter-since" name="since" type="date" value="2026-02-30" aria-invalid="true"' in html
    )
    assert "<table" not in html


def test_library_pages_by_fifty(alice: Client, scene) -> None:
    officer, device = scene["stop"].officer, scene["stop"].device
    Recording.objects.bulk_create(
        Recording(
            title=f"Patrol {n:02d}",
            officer=officer,
            device=device,
            trigger_on_at=TRIGGER - timedelta(days=10, minutes=n),
        )
        for n in range(60)
    )
    first = page(alice.get("/"))
    assert f"Recordings 1{DASH}50 of 63" in first and "Page 1 of 2" in first
    assert len(listed(alice)) == 50
    assert 'href="?page=2"' in first
    second = listed(alice, "?page=2")
    assert second[0] == "Patrol 47" and second[-1] == "Patrol 59" and len(second) == 13
    assert listed(alice, "?page=99")[-1] == "Patrol 59"  # past the end: the last page
    searched = page(alice.get("/?q=patrol"))  # text searches are counted too (indexed)
    assert f"Recordings 1{DASH}50 of 60 matching the filters," in searched
    assert "Page 1 of 2" in searched
    assert 'href="?q=patrol&amp;page=2"' in searched
    assert listed(alice, "?q=patrol&page=2")[-1] == "Patrol 59"


# --- a recording ------------------------------------------------------------------------


def justify(
    client: Client,
    recording: Recording,
    category: str = "Investigation",
    text: str = "Op Bluebell, reviewing the stop",
) -> object:
    return client.post(
        f"/recordings/{recording.pk}/",
        {"category": category, "text": text},
        headers={"user-agent": "pytest-browser/1.0"},
    )


def test_recording_asks_why_before_showing_the_player(alice: Client, scene) -> None:
    html = page(alice.get(f"/recordings/{scene['armed'].pk}/"))
    assert "Why are you viewing this footage?" in html
    for reason in [
        "Investigation",
        "Evidence review",
        "Disclosure preparation",
        "Complaint",
        "Supervisory review",
        "Training (authorised)",
    ]:
        assert f'<option value="{reason}">' in html
    assert '<label for="id_text">Justification</label>' in html
    assert "<video" not in html
    assert "Subject detained" not in html
    assert view_entries() == []


@pytest.mark.parametrize(
    ("category", "text", "message"),
    [
        ("Investigation", "   ", "Say why you need to watch this footage."),
        ("", "Looking", "Choose the reason that fits best."),
        ("Curiosity", "Looking", "Select a valid choice"),
    ],
)
def test_justification_must_be_complete(alice: Client, scene, category, text, message) -> None:
    response = justify(alice, scene["armed"], category, text)
    assert response.status_code == 400
    html = page(response)
    assert message in html and "Your reason was not recorded" in html
    assert "<video" not in html
    assert view_entries() == []


def test_justification_writes_one_view_entry_per_clip(alice: Client, scene) -> None:
    """Issue 11 item 5: a view of a two-clip recording is in both clips' histories."""
    armed, first, second = scene["armed"], scene["first"], scene["second"]
    response = justify(alice, armed)
    assert response.status_code == 302 and response["Location"] == f"/recordings/{armed.pk}/"
    entries = view_entries()
    assert [e["object"] for e in entries] == [
        {"sha256": clip.sha256, "ids": {"recording": armed.pk, "original": clip.pk}}
        for clip in (first, second)
    ]
    for entry in entries:
        assert entry["action"] == "view"
        assert entry["actor"] == {"kind": "user", "id": "alice"}
        assert entry["justification"] == "Investigation: Op Bluebell, reviewing the stop"
        assert entry["client"] == {"address": "127.0.0.1", "user_agent": "pytest-browser/1.0"}
    for clip in (first, second):  # each original's own history, as the custody API reads it
        assert [e.action for e in entries_for(clip.sha256)] == ["view"]

    for _ in range(3):  # watching, reloading and seeking log nothing more
        assert alice.get(f"/recordings/{armed.pk}/").status_code == 200
    assert len(view_entries()) == 2
    justify(alice, armed, "Complaint", "Complaint ref 77")  # a new reason is a new entry
    assert [e["justification"] for e in view_entries()][2:] == ["Complaint: Complaint ref 77"] * 2


def test_player_markers_facts_and_derivatives_after_justifying(alice: Client, scene) -> None:
    armed, first, second = scene["armed"], scene["first"], scene["second"]
    justify(alice, armed)
    html = page(alice.get(f"/recordings/{armed.pk}/"))
    assert "Your reason is in the custody log" in html
    # The first clip plays its proxy with its poster; the second has no proxy yet.
    video = re.search(r"<video [^>]*>", html).group(0)
    assert f'id="player-{first.pk}"' in video and "controls" in video
    assert f'src="/media/derivatives/{scene["proxy"].pk}"' in video
    assert f'poster="/media/derivatives/{scene["poster"].pk}"' in video
    assert html.count("<video") == 1
    assert "not ready yet" in html
    assert '<script type="module" src="/static/review/recording.js">' in html
    # Markers seek within their own clip: offsets count from the clip's start.
    assert (
        f'data-seek-video="player-{first.pk}" data-seek-offset="3.000">Clip 1 at 0:03</button>'
        in html
    )
    assert "Clip 2 at 0:12" in html and "Subject detained" in html
    assert f'data-seek-video="player-{second.pk}"' not in html  # nothing to seek in yet
    # Recording facts, in London time.
    assert "1 Jul 2026, 11:00:00 BST" in html and "weapon-drawn" in html
    assert "1 Jul 2026, 11:00:15 BST" in html and "manual" in html
    assert "30 s" in html and "51.50141, -0.14189" in html
    assert "CAD 1/JUL: Armed deployment" in html and "Firearms" in html
    # Media facts per clip.
    assert first.sha256 in html and second.sha256 in html
    assert "h264 / aac" in html and f"320 {TIMES} 180" in html and "25.000 fps" in html
    assert "20.00 s" in html and "123456 bytes" in html
    # Derivatives: present ones with size and generator version, else the job's state.
    assert "recipe=1;test=1" in html and "4.0\xa0KB" in html
    assert "retrying" in html and 'value="0.420"' in html and "attempt 2 of 5" in html
    assert "decoder gave up at frame 12" in html


def test_unplayable_clips_are_listed_with_their_problem(alice: Client, scene) -> None:
    broken = scene["broken"]
    justify(alice, broken)
    html = page(alice.get(f"/recordings/{broken.pk}/"))
    assert "1 clip cannot be played" in html
    assert html.count("incomplete MP4: no &#x27;moov&#x27; index box") >= 3
    assert "NOT PLAYABLE" in html and "<video" not in html
    assert "clip-3.mp4" in html and sha(3) in html


def test_missing_recording_is_404(alice: Client, db) -> None:
    assert alice.get("/recordings/999999/").status_code == 404


# --- jobs -------------------------------------------------------------------------------


def test_jobs_page_shows_progress_and_polls_the_api(alice: Client, scene) -> None:
    Job.objects.create(
        kind="media.poster",
        key="media.poster:original:1",
        status=Job.Status.FAILED,
        attempts=5,
        max_attempts=5,
        last_error="poster: no frames",
    )
    html = page(alice.get("/jobs/"))
    assert f"original:{scene['second'].pk}" in html
    assert '<progress max="1" value="0.420"' in html and "42%" in html
    assert "2 / 5" in html and "decoder gave up at frame 12" in html
    assert "5 / 5" in html and "poster: no frames" in html
    assert 'data-jobs-api="/api/jobs/?limit=100"' in html
    assert '<script type="module" src="/static/review/jobs.js">' in html
    failed = page(alice.get("/jobs/?status=failed"))
    assert "poster: no frames" in failed and "decoder gave up" not in failed
    assert 'data-jobs-api="/api/jobs/?limit=100&amp;status=failed"' in failed
