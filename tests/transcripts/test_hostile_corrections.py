"""Hostile corrections and captions: what a client can send in JSON (lone surrogates,
control characters, bidi overrides, NUL) is refused plainly, never a 500; captions stay
valid WebVTT whatever a file name or a word holds."""

from __future__ import annotations

import pytest
from django.test import Client
from search_support import make_recording

from overt.custody.models import CustodyEntry
from overt.testing.access import make_user, sign_in
from overt.transcripts.captions import webvtt
from overt.transcripts.services import TimedWord

pytestmark = pytest.mark.scaled
SAID = "Armed police! Drop the weapon!"


@pytest.fixture
def url(db: None) -> str:
    rec = make_recording("Armed deployment", officer=("MP4121", "PC Asha Patel", "SFC"), said=SAID)
    return f"/api/originals/{rec.originals.get().pk}/transcript/"


# Raw JSON text, so the escapes reach the server as a client would send them.
@pytest.mark.parametrize(
    "body",
    [
        '{"changes": {"1": "\\ud800"}, "note": "n"}',
        '{"changes": {"1": "x"}, "note": "\\udfff why"}',
        '{"changes": {"1": "po\\u0000lice"}, "note": "n"}',
        '{"changes": {"1": "x"}, "note": "a\\u0000b"}',
        '{"changes": {"1": "\\u202eecilop"}, "note": "n"}',
        '{"changes": {"1": "a\\u001bb"}, "note": "n"}',
        '{"changes": {"\\ud800": "x"}, "note": "n"}',
    ],
)
def test_unprintable_text_is_refused_not_a_500(client: Client, url: str, body: str) -> None:
    sign_in(client, make_user("ev", "evidence-manager"))
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert not CustodyEntry.objects.filter(action="transcript-correct").exists()
    assert client.get(url).json()["version"] == 1


@pytest.mark.parametrize("word", ["Zoë", "שלום", "😀", "e\u0301", "can't", "two\twords"])
def test_real_words_in_any_script_are_kept(client: Client, url: str, word: str) -> None:
    sign_in(client, make_user("ev", "evidence-manager"))
    response = client.post(
        url, {"changes": {"1": word}, "note": "heard it"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["words"][1]["word"] == " ".join(word.split())


@pytest.mark.parametrize(
    "name", ["a\rb.mp4", "a\r\r\rWEBVTT.mp4", "x\u2028y", "a\n\nb", "a--->b", "a----->b"]
)
def test_a_note_never_breaks_the_caption_file(name: str) -> None:
    vtt = webvtt([TimedWord("hello", 1.0, 1.5, 1.0)], note=name)
    lines = vtt.split("\n")
    assert lines[:2] == ["WEBVTT", ""]
    assert lines[2].startswith("NOTE ") and lines[3] == ""
    assert "\r" not in vtt and "\u2028" not in vtt
    assert "-->" not in lines[2]  # a NOTE may not hold it
    assert lines[4:7] == ["1", "00:00:01.000 --> 00:00:01.500", "hello"]
