"""The review workspace's writes through the API and its pages: every change checked with
the access service, audited in the same transaction, refused with problem JSON."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from overt.custody.models import CustodyEntry
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
from overt.review.models import SavedSearch, SyncOffset
from overt.testing.access import make_user, sign_in

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


def entries(action: str) -> list[dict]:
    return [json.loads(e.entry) for e in CustodyEntry.objects.filter(action=action)]


def html(response) -> str:
    text = response.content.decode()
    assert not INLINE_SCRIPT.search(text), "inline script"
    assert not INLINE_HANDLER.search(text), "inline event handler"
    assert not INLINE_STYLE.search(text), "inline style (the CSP forbids it)"
    return text


@pytest.fixture
def scene(db: None) -> dict:
    asha = Officer.objects.create(number="MP1", name="PC Asha Patel", team="SFC")
    tom = Officer.objects.create(number="MP2", name="PC Tom Hughes", team="BCU")
    cam_a = Device.objects.create(serial="CAM-A")
    cam_b = Device.objects.create(serial="CAM-B")
    cad = Incident.objects.create(reference="CAD 1/NOV", title="Armed deployment")
    Category.objects.create(name="Firearms")
    Category.objects.get_or_create(name="Non-evidential")  # a default category (migration)
    recs = {}
    for key, officer, device, minutes in [("a", asha, cam_a, 0), ("b", tom, cam_b, 0.1)]:
        rec = Recording.objects.create(
            title=f"Armed deployment {key.upper()}",
            officer=officer,
            device=device,
            incident=cad,
            trigger_on_at=T0 + timedelta(minutes=minutes),
            trigger_off_at=T0 + timedelta(minutes=minutes, seconds=40),
            pre_event_seconds=30,
            gps_track=[
                {"t": "2026-11-20T14:00:00Z", "lat": 51.50 + n / 1000, "lon": -0.14}
                for n in range(5)
            ],
        )
        original = Original.objects.create(
            sha256=f"{ord(key):064x}",
            size=10,
            recording=rec,
            filename=f"{key}.mp4",
            source=Original.Source.CLI,
            duration_s=60,
            fps=25,
            started_at=rec.trigger_on_at - timedelta(seconds=30),
            playable=True,
        )
        recs[key] = rec
        recs[f"{key}_original"] = original
    other = Recording.objects.create(
        title="Secret stop", officer=tom, device=cam_b, trigger_on_at=T0 - timedelta(days=1)
    )
    recs["other"] = other
    recs["incident"] = cad
    return recs


@pytest.fixture
def manager(client: Client) -> Client:
    return sign_in(client, make_user("manager", "evidence-manager"))


@pytest.fixture
def asha(db: None, scene) -> Client:
    """An officer: sees her own footage, may not edit or export it."""
    return sign_in(Client(), make_user("asha", "officer", officer="MP1"))


# --- details -----------------------------------------------------------------------------


def test_patch_details_logs_one_entry_per_field(manager: Client, scene) -> None:
    rec = scene["a"]
    response = manager.patch(
        f"/api/recordings/{rec.pk}/",
        {
            "title": "Armed deployment, Horseferry Road",
            "notes": "Subject complied.",
            "tags": ["urgent", "use-of-force"],
            "categories": ["Firearms"],
            "reason": "Case file",
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["changed"]) == {"title", "notes", "tags", "categories"}
    assert body["title"] == "Armed deployment, Horseferry Road"
    assert body["tags"] == ["urgent", "use-of-force"] and body["categories"] == ["Firearms"]
    changes = {e["details"]["field"]: e for e in entries("metadata-change")}
    assert (
        changes["notes"]["details"]["before"] == ""
        and changes["notes"]["details"]["after"] == "Subject complied."
    )
    assert changes["title"]["actor"] == {"kind": "user", "id": "manager"}
    assert changes["tags"]["justification"] == "Case file"
    assert changes["tags"]["object"]["sha256"] == scene["a_original"].sha256
    category = entries("category-change")
    assert len(category) == 1 and category[0]["details"]["after"] == ["Firearms"]
    # The same values again change nothing and log nothing.
    again = manager.patch(
        f"/api/recordings/{rec.pk}/",
        {"notes": "Subject complied."},
        content_type="application/json",
    )
    assert again.json()["changed"] == []
    assert len(entries("metadata-change")) == 3  # title, notes, tags (categories: above)


def test_incident_links_unlinks_and_creates_with_a_title(manager: Client, scene) -> None:
    rec = scene["a"]
    url = f"/api/recordings/{rec.pk}/"
    refused = manager.patch(url, {"incident": "CAD 9/NOV"}, content_type="application/json")
    assert refused.status_code == 400 and refused["Content-Type"] == PROBLEM
    assert "incident_title" in json.dumps(refused.json())
    made = manager.patch(
        url,
        {"incident": "CAD 9/NOV", "incident_title": "Follow-up"},
        content_type="application/json",
    )
    assert made.status_code == 200 and made.json()["incident"]["reference"] == "CAD 9/NOV"
    assert Incident.objects.get(reference="CAD 9/NOV").title == "Follow-up"
    unlinked = manager.patch(url, {"incident": None}, content_type="application/json")
    assert unlinked.json()["incident"] is None
    log = [e["details"] for e in entries("metadata-change") if e["details"]["field"] == "incident"]
    assert [(d["before"], d["after"]) for d in log] == [
        ("CAD 1/NOV", "CAD 9/NOV"),
        ("CAD 9/NOV", None),
    ]


def test_unknown_category_is_a_problem_and_nothing_changes(manager: Client, scene) -> None:
    response = manager.patch(
        f"/api/recordings/{scene['a'].pk}/",
        {"notes": "x", "categories": ["Firearms", "Nonsense"]},
        content_type="application/json",
    )
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    assert "Nonsense" in json.dumps(response.json())
    scene["a"].refresh_from_db()
    assert scene["a"].notes == "" and entries("metadata-change") == []


def test_edits_need_the_edit_permission(asha: Client, scene) -> None:
    own = asha.patch(
        f"/api/recordings/{scene['a'].pk}/", {"notes": "x"}, content_type="application/json"
    )
    assert own.status_code == 403 and own["Content-Type"] == PROBLEM
    hidden = asha.patch(
        f"/api/recordings/{scene['other'].pk}/", {"notes": "x"}, content_type="application/json"
    )
    assert hidden.status_code == 404
    assert "Secret" not in hidden.content.decode()
    for url, body in [
        (f"/api/recordings/{scene['a'].pk}/markers/", {"text": "t", "at": T0.isoformat()}),
        (
            f"/api/recordings/{scene['a'].pk}/clips/",
            {"original": scene["a_original"].pk, "in_s": 0, "out_s": 1},
        ),
        (
            f"/api/recordings/{scene['a'].pk}/stills/",
            {"original": scene["a_original"].pk, "at_s": 1},
        ),
    ]:
        response = asha.post(url, body, content_type="application/json")
        assert response.status_code == 403, url
    scene["a"].refresh_from_db()
    assert scene["a"].notes == ""


# --- bookmarks --------------------------------------------------------------------------------


def test_bookmarks_add_change_and_remove_are_audited(manager: Client, scene) -> None:
    rec, original = scene["a"], scene["a_original"]
    url = f"/api/recordings/{rec.pk}/markers/"
    by_offset = manager.post(
        url,
        {"text": "Subject turns", "original": original.pk, "offset_s": 12.48},
        content_type="application/json",
    )
    assert by_offset.status_code == 201, by_offset.content
    marker = Marker.objects.get(pk=by_offset.json()["id"])
    assert marker.at == original.started_at + timedelta(seconds=12.48)
    assert marker.created_by == "manager"
    assert by_offset.json()["clip"] == {"original": original.pk, "offset_s": pytest.approx(12.48)}
    added = entries("marker-add")[-1]
    assert added["details"]["text"] == "Subject turns" and added["actor"]["id"] == "manager"
    by_time = manager.post(
        url, {"text": "Door", "at": "2026-11-20T14:00:05Z"}, content_type="application/json"
    )
    assert by_time.status_code == 201
    neither = manager.post(url, {"text": "?"}, content_type="application/json")
    assert neither.status_code == 400 and neither["Content-Type"] == PROBLEM

    changed = manager.patch(
        f"/api/markers/{marker.pk}/",
        {"text": "Subject turns left"},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["text"] == "Subject turns left"
    assert entries("metadata-change")[-1]["details"]["before"] == "Subject turns"
    camera = Marker.objects.create(recording=rec, at=T0, text="Camera marker", created_by="CAM-A")
    assert manager.delete(f"/api/markers/{camera.pk}/").status_code == 403  # not theirs
    assert manager.delete(f"/api/markers/{marker.pk}/").status_code == 204
    assert not Marker.objects.filter(pk=marker.pk).exists()
    assert entries("metadata-change")[-1]["details"]["removed"]["text"] == "Subject turns left"


# --- clips, stills, timeline ----------------------------------------------------------------


def test_clip_and_still_requests_are_validated_and_queued_once(manager: Client, scene) -> None:
    rec, original = scene["a"], scene["a_original"]
    url = f"/api/recordings/{rec.pk}/clips/"
    bad = manager.post(
        url, {"original": original.pk, "in_s": 5, "out_s": 1}, content_type="application/json"
    )
    assert bad.status_code == 400 and "before the in-point" in bad.json()["detail"] + json.dumps(
        bad.json()
    )
    foreign = manager.post(
        url,
        {"original": scene["b_original"].pk, "in_s": 0, "out_s": 1},
        content_type="application/json",
    )
    assert foreign.status_code == 400
    queued = manager.post(
        url,
        {"original": original.pk, "in_s": 1, "out_s": 2.5, "label": "x"},
        content_type="application/json",
    )
    assert queued.status_code == 202 and queued.json()["derivative"] is None
    job = queued.json()["job"]
    assert job["kind"] == "review.clip" and job["subject"] == f"original:{original.pk}:1000-2500"
    again = manager.post(
        url, {"original": original.pk, "in_s": 1, "out_s": 2.5}, content_type="application/json"
    )
    assert again.json()["job"]["id"] == job["id"]
    polled = manager.get(f"/api/jobs/{job['id']}/derived/")
    assert polled.status_code == 202 and polled.json()["job"]["status"] == "queued"
    still = manager.post(
        f"/api/recordings/{rec.pk}/stills/",
        {"original": original.pk, "at_s": 3.2},
        content_type="application/json",
    )
    assert still.status_code == 202 and still.json()["job"]["kind"] == "review.still"


def test_timeline_has_its_tracks_and_custody_only_for_auditors(
    manager: Client, asha: Client, scene
) -> None:
    rec, original = scene["a"], scene["a_original"]
    Marker.objects.create(
        recording=rec,
        at=original.started_at + timedelta(seconds=34),
        text="Challenged",
        created_by="CAM-A",
    )
    waveform = Derivative.objects.create(
        original=original,
        kind="waveform",
        sha256="9" * 64,
        size=1,
        content_type="application/json",
        generator="g",
        generator_version="1",
    )
    manager.post(
        f"/api/recordings/{rec.pk}/markers/",
        {"text": "Mine", "original": original.pk, "offset_s": 40},
        content_type="application/json",
    )
    data = manager.get(f"/api/recordings/{rec.pk}/timeline/").json()
    assert (
        data["duration"] == 70  # to trigger off, 40 s after trigger on
        and data["clips"][0]["start"] == 0
        and data["clips"][0]["player"] == f"player-{original.pk}"
    )
    tracks = {t["id"]: t for t in data["tracks"]}
    assert list(tracks) == ["trigger", "bookmarks", "waveform", "custody"]
    trigger = {i["kind"]: i for i in tracks["trigger"]["items"]}
    assert (
        trigger["trigger-on"]["t"] == 30
        and trigger["buffer"]["end"] == 30
        and trigger["trigger-off"]["t"] == 70
    )
    assert [(i["label"], i["t"], i["mine"]) for i in tracks["bookmarks"]["items"]] == [
        ("Challenged", 34, False),
        ("Mine", 40, True),
    ]
    assert tracks["waveform"]["items"][0]["url"] == f"/media/derivatives/{waveform.pk}"
    assert [i["t"] for i in tracks["custody"]["items"]] == [40]  # the marker-add entry
    # An officer viewing her own recording gets no custody track (no audit permission).
    officer_view = asha.get(f"/api/recordings/{rec.pk}/timeline/").json()
    assert [t["id"] for t in officer_view["tracks"]] == ["trigger", "bookmarks", "waveform"]


def test_timeline_takes_new_tracks_from_a_provider(manager: Client, scene) -> None:
    from overt.review import timeline

    @timeline.track("detections", order=35)
    def detections(ctx):
        return timeline.Track(
            "detections", "Detected events", "ranges", [{"start": 1, "end": 2, "label": "Shout"}]
        )

    try:
        data = manager.get(f"/api/recordings/{scene['a'].pk}/timeline/").json()
        assert [t["id"] for t in data["tracks"]] == [
            "trigger",
            "bookmarks",
            "waveform",
            "detections",
            "custody",
        ]
    finally:
        timeline._PROVIDERS[:] = [p for p in timeline._PROVIDERS if p[1] != "detections"]


# --- sync offsets ----------------------------------------------------------------------------


def test_incident_sync_state_and_a_manual_offset(manager: Client, asha: Client, scene) -> None:
    a, b = scene["a_original"], scene["b_original"]
    row = SyncOffset.objects.create(
        reference=a, other=b, offset_s=0.12, estimated_s=0.12, confidence=0.95, source="estimate"
    )
    incident = scene["incident"]
    state = manager.get(f"/api/incidents/{incident.pk}/sync/").json()
    assert [r["title"] for r in state["recordings"]] == ["Armed deployment A", "Armed deployment B"]
    assert state["offsets"][0]["level"] == "high" and state["offsets"][0]["may_edit"] is True
    starts = {c["original"]: c["start"] for r in state["recordings"] for c in r["clips"]}
    assert starts[b.pk] - starts[a.pk] == pytest.approx(6 + 0.12)
    assert all(c["proxy"] is None for r in state["recordings"] for c in r["clips"])  # no grant yet

    saved = manager.put(
        f"/api/sync-offsets/{row.pk}/",
        {"offset_s": 0.16, "note": "Door slam"},
        content_type="application/json",
    )
    assert saved.status_code == 200 and saved.json()["source"] == "manual"
    entry = entries("metadata-change")[-1]
    assert (
        entry["details"]["before"]["offset_s"] == 0.12
        and entry["details"]["after"]["offset_s"] == 0.16
    )
    assert entry["justification"] == "Door slam"
    too_far = manager.put(
        f"/api/sync-offsets/{row.pk}/", {"offset_s": 5000}, content_type="application/json"
    )
    assert too_far.status_code == 400
    # Asha sees only her own recording of the incident: not the pair, not B's title.
    hers = asha.get(f"/api/incidents/{incident.pk}/sync/").json()
    assert [r["title"] for r in hers["recordings"]] == ["Armed deployment A"] and hers[
        "offsets"
    ] == []
    assert (
        asha.put(
            f"/api/sync-offsets/{row.pk}/", {"offset_s": 0}, content_type="application/json"
        ).status_code
        == 404
    )
    assert asha.post(f"/api/incidents/{incident.pk}/sync/").status_code == 400  # one recording
    assert manager.post(f"/api/incidents/{incident.pk}/sync/").status_code == 202


# --- pages ---------------------------------------------------------------------------------


def test_library_facets_map_and_saved_searches(manager: Client, scene) -> None:
    page = html(manager.get("/?sort=oldest"))
    assert 'value="oldest" selected' in page
    assert re.search(
        r'href="\?sort=oldest&amp;officer=MP1"[^>]*><span class="facet-label">MP1 PC Asha Patel</span> <span class="count">1',
        page,
    )
    assert 'data-tracks="[{&quot;id&quot;' in page and 'id="track-map"' in page
    assert "nothing is fetched from outside" in page
    chosen = html(manager.get("/?officer=MP1"))
    assert 'aria-current="true" class="chosen"' in chosen
    saved = manager.post("/searches/", {"name": "Asha", "query": "officer=MP1&page=3"})
    assert saved.status_code == 302 and saved["Location"] == "/?officer=MP1"
    manager.post("/searches/", {"name": "Asha", "query": "officer=MP2"})  # same name: replaced
    search = SavedSearch.objects.get()
    assert search.query == "officer=MP2"
    assert 'href="/?officer=MP2">Asha</a>' in html(manager.get("/"))
    other = sign_in(Client(), make_user("other", "evidence-manager"))
    assert other.post(f"/searches/{search.pk}/delete/").status_code == 404
    assert manager.post(f"/searches/{search.pk}/delete/").status_code == 302
    assert not SavedSearch.objects.exists()


def test_library_counts_only_what_the_viewer_may_see(asha: Client, scene) -> None:
    page = html(asha.get("/"))
    assert "Secret stop" not in page and "Armed deployment B" not in page
    assert "MP2 PC Tom Hughes</span>" not in page  # no facet count reveals Tom's footage
    assert "Recordings 1\N{EN DASH}1 of 1" in page


def test_library_map_uses_the_configured_tile_server_only(
    manager: Client, scene, settings_env
) -> None:
    settings_env(
        map_tile_url="https://tiles.example.org/{z}/{x}/{y}.png", map_tile_attribution="Example"
    )
    response = manager.get("/")
    assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in html(response)
    assert "img-src 'self' https://tiles.example.org" in response["Content-Security-Policy"]
    assert "Map tiles: Example" in response.content.decode()


def test_player_page_has_labelled_controls_timeline_and_shortcuts(manager: Client, scene) -> None:
    rec, original = scene["a"], scene["a_original"]
    proxy = Derivative.objects.create(
        original=original,
        kind="proxy",
        sha256="8" * 64,
        size=1,
        content_type="video/mp4",
        generator="g",
        generator_version="1",
    )
    manager.post(f"/recordings/{rec.pk}/", {"category": "Investigation", "text": "Review"})
    page = html(manager.get(f"/recordings/{rec.pk}/"))
    assert f'src="/media/derivatives/{proxy.pk}"' in page
    assert 'role="toolbar" aria-label="Player controls"' in page
    for label in [
        "Previous frame",
        "Next frame",
        "Back 5 seconds",
        "Forward 5 seconds",
        "Zoom in",
        "Zoom out",
    ]:
        assert f'<span class="visually-hidden">{label}</span>' in page
    assert '<label for="speed" class="inline-label">Speed</label>' in page
    assert all(f'<option value="{s}"' in page for s in ["0.25", "0.5", "1", "2", "4"])
    assert f'data-timeline-url="/api/recordings/{rec.pk}/timeline/"' in page
    assert '<dialog id="shortcuts-dialog"' in page and "<kbd>,</kbd> and <kbd>.</kbd>" in page
    assert "Make clip" in page and "Save still" in page and "Add bookmark" in page
    assert "Edit details" in page and "Custody log" in page
    assert f'href="/incidents/{scene["incident"].pk}/">Watch its 2 cameras in sync' in page


def test_officer_sees_the_player_without_edit_or_export_controls(asha: Client, scene) -> None:
    rec = scene["a"]
    asha.post(f"/recordings/{rec.pk}/", {"category": "Investigation", "text": "My own footage"})
    page = html(asha.get(f"/recordings/{rec.pk}/"))
    assert "Make clip" not in page and "Edit details" not in page and "Custody log" not in page


def test_incident_page_justifies_each_recording_then_plays_them(manager: Client, scene) -> None:
    incident, a, b = scene["incident"], scene["a"], scene["b"]
    page = html(manager.get(f"/incidents/{incident.pk}/"))
    assert "Choose 2 to 4 cameras" in page and 'id="multicam"' not in page
    one = manager.post(
        f"/incidents/{incident.pk}/",
        {"recording": [a.pk], "category": "Investigation", "text": "x"},
    )
    assert one.status_code == 400 and "between 2 and 4" in one.content.decode()
    assert entries("view") == []
    both = manager.post(
        f"/incidents/{incident.pk}/",
        {"recording": [a.pk, b.pk], "category": "Complaint", "text": "Complaint 7"},
    )
    assert (
        both.status_code == 302
        and both["Location"] == f"/incidents/{incident.pk}/?play={a.pk}%2C{b.pk}"
    )
    views = entries("view")
    assert sorted(v["object"]["ids"]["recording"] for v in views) == [a.pk, b.pk]
    assert {v["justification"] for v in views} == {"Complaint: Complaint 7"}
    playing = html(manager.get(both["Location"]))
    assert 'id="multicam"' in playing and f'data-play="{a.pk},{b.pk}"' in playing
    assert manager.get("/incidents/999999/").status_code == 404


def test_incident_page_hides_what_the_viewer_may_not_see(asha: Client, scene) -> None:
    page = html(asha.get(f"/incidents/{scene['incident'].pk}/"))
    assert "Armed deployment A" in page and "Armed deployment B" not in page


def test_jobs_page_lists_recent_ingests(manager: Client, scene) -> None:
    page = html(manager.get("/jobs/"))
    assert "Recent ingests" in page and "a.mp4" in page and "flag-good" in page


def test_library_date_and_time_range(manager: Client, scene) -> None:
    def titles(query: str) -> list[str]:
        return re.findall(
            r'<th scope="row"><a href="/recordings/\d+/">([^<]+)</a>', html(manager.get(query))
        )

    # A triggers at 14:00:00 UTC (GMT in November), B six seconds later.
    assert titles("/?since=2026-11-20&until=2026-11-20") == [
        "Armed deployment B",
        "Armed deployment A",
    ]
    assert titles("/?since=2026-11-20&since_time=14:00:03&until=2026-11-20") == [
        "Armed deployment B"
    ]
    assert titles("/?since=2026-11-20&until=2026-11-20&until_time=14:00:03") == [
        "Armed deployment A"
    ]
