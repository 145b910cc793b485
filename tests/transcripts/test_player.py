"""The player's transcript: WebVTT captions and the words panel (under the justification
grant, like the footage), and corrections as new versions (API, custody, search)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from search_support import make_recording, version_of

from overt.custody.models import CustodyEntry
from overt.evidence.models import Derivative
from overt.testing.access import make_user, sign_in
from overt.transcripts.captions import cues, timestamp, webvtt
from overt.transcripts.services import TimedWord

pytestmark = pytest.mark.scaled
SAID = "Armed police! Drop the weapon! Show me your hands. Get down on the ground now."


def test_cues_are_short_and_break_at_sentences() -> None:
    words = [TimedWord(w, i * 0.4, i * 0.4 + 0.3, 0.9) for i, w in enumerate(SAID.split())]
    made = cues(words)
    assert [c.text.replace("\n", " ") for c in made][:2] == ["Armed police!", "Drop the weapon!"]
    assert all(c.end - c.start <= 6.0 and len(c.text) <= 86 for c in made)
    assert timestamp(3725.5) == "01:02:05.500"
    vtt = webvtt([TimedWord("<b>&", 1.0, 1.5, 1.0)], note="x --> y")
    assert vtt.startswith("WEBVTT\n") and "&lt;b&gt;&amp;" in vtt and "x --> y" not in vtt


@pytest.fixture
def armed(db: None):  # type: ignore[no-untyped-def]
    rec = make_recording(
        "Armed deployment",
        officer=("MP4121", "PC Asha Patel", "Specialist Firearms Command"),
        said=SAID,
        said_at=5.0,
    )
    Derivative.objects.create(  # a proxy, so the page shows a player
        original=rec.originals.get(),
        kind="proxy",
        sha256="b" * 64,
        size=1,
        content_type="video/mp4",
        generator="test",
        generator_version="1",
    )
    return rec


def _justify(client: Client, rec) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/recordings/{rec.pk}/?clip=1&t=5", {"category": "Investigation", "text": "Op Quartz"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/recordings/{rec.pk}/?clip=1&t=5"  # the hit's second kept


def test_captions_and_words_need_the_justification_grant(client: Client, armed) -> None:
    original = armed.originals.get()
    sign_in(client, make_user("ev", "evidence-manager"))
    refused = client.get(f"/transcripts/originals/{original.pk}.vtt")
    assert refused.status_code == 403 and "Justification" in refused.json()["title"]
    _justify(client, armed)
    vtt = client.get(f"/transcripts/originals/{original.pk}.vtt")
    assert vtt.status_code == 200 and vtt["Content-Type"].startswith("text/vtt")
    text = vtt.content.decode()
    assert "00:00:06.000 --> " in text and "Drop the weapon!" in text
    words = client.get(f"/transcripts/originals/{original.pk}.json").json()
    assert words["words"][2] == {"word": "Drop", "start": 6.0, "end": 6.4, "probability": 0.9}
    page = client.get(f"/recordings/{armed.pk}/").content.decode()
    assert f'<track kind="captions" src="/transcripts/originals/{original.pk}.vtt"' in page
    assert 'id="transcript"' in page and "transcripts/transcript.js" in page


def test_an_officer_who_may_not_play_it_reads_nothing(client: Client, armed) -> None:
    original = armed.originals.get()
    sign_in(client, make_user("other", "officer"))
    assert client.get(f"/transcripts/originals/{original.pk}.vtt").status_code == 404
    assert client.get(f"/api/originals/{original.pk}/transcript/").status_code == 404


def test_a_correction_is_a_new_version_and_the_machine_text_stays(client: Client, armed) -> None:
    original = armed.originals.get()
    machine = version_of(armed)
    sign_in(client, make_user("ev", "evidence-manager"))
    response = client.post(
        f"/api/originals/{original.pk}/transcript/",
        {"changes": {"4": "weapons!", "0": ""}, "note": "Heard on the second camera"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 2
    assert body["words"][0]["word"] == "police!"  # the removed word is gone
    assert [v["author"] for v in body["versions"]] == ["machine", "ev"]
    machine.refresh_from_db()
    assert machine.text == SAID  # never overwritten
    entry = json.loads(CustodyEntry.objects.get(action="transcript-correct").entry)
    assert entry["actor"] == {"kind": "user", "id": "ev"}
    assert entry["details"]["corrects_version"] == 1
    assert entry["details"]["corrects_sha256"] == machine.derivative.sha256
    assert entry["details"]["changes"] == [
        {"index": 0, "from": "Armed", "to": ""},
        {"index": 4, "from": "weapon!", "to": "weapons!"},
    ]
    assert Derivative.objects.filter(original=original, kind="transcript").count() == 2
    found = client.get("/api/recordings/", {"q": "weapons"}).json()
    assert found["count"] == 1  # the search reads the current version


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"changes": {"99": "x"}, "note": "n"}, 400),
        ({"changes": {}, "note": "n"}, 400),
        ({"changes": {"a": "x"}, "note": "n"}, 400),
        ({"changes": {"1": "x"}, "note": ""}, 400),
        ({"changes": {"1": "x" * 101}, "note": "n"}, 400),
    ],
)
def test_bad_corrections_are_refused_plainly(client: Client, armed, body, status) -> None:
    sign_in(client, make_user("ev", "evidence-manager"))
    url = f"/api/originals/{armed.originals.get().pk}/transcript/"
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/problem+json")


def test_correcting_needs_edit(client: Client, armed) -> None:
    sign_in(client, make_user("aud", "auditor"))
    url = f"/api/originals/{armed.originals.get().pk}/transcript/"
    response = client.post(
        url, {"changes": {"1": "x"}, "note": "n"}, content_type="application/json"
    )
    assert response.status_code in (403, 404)
    assert not CustodyEntry.objects.filter(action="transcript-correct").exists()
