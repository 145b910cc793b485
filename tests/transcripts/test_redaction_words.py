"""Audio redaction by words: chosen transcript words become mute/bleep ranges with a
margin, merged where they touch, added to the redaction project with custody entries."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from search_support import make_recording

from overt.custody.models import CustodyEntry
from overt.errors import Invalid
from overt.redaction.models import AudioRange
from overt.redaction.services import create_project
from overt.testing.access import make_user, sign_in
from overt.transcripts.redaction_words import ranges

WORDS = [
    ["my", 1.0, 1.2, 0.9],
    ["address", 1.3, 1.8, 0.9],
    ["is", 1.9, 2.0, 0.9],
    ["12", 2.1, 2.4, 0.9],
    ["Elm", 2.5, 2.8, 0.9],
    ["Road", 2.9, 3.3, 0.9],
]


def test_words_become_merged_ranges_with_a_margin() -> None:
    made = ranges(WORDS, [3, 4, 5, 1], margin_s=0.15, duration_s=10)
    assert [(round(r.start_s, 2), round(r.end_s, 2), r.words) for r in made] == [
        (1.15, 1.95, "address"),
        (1.95, 3.45, "12 Elm Road"),
    ]
    edge = ranges(WORDS, [0], margin_s=5, duration_s=3.0)[0]
    assert (edge.start_s, edge.end_s) == (0.0, 3.0)  # kept inside the recording


@pytest.mark.parametrize("chosen", [[], [6], [-1]])
def test_bad_choices_are_refused(chosen: list[int]) -> None:
    with pytest.raises(Invalid):
        ranges(WORDS, chosen, 0.1, 10)


@pytest.mark.scaled
def test_the_redaction_page_silences_chosen_words(client: Client, db: None) -> None:
    rec = make_recording("Witness", said="my address is 12 Elm Road thanks", said_at=4.0)
    original = rec.originals.get()
    project = create_project(original, "ev", title="Witness address", detect=False)
    sign_in(client, make_user("ev", "evidence-manager"))
    page = client.get(f"/redaction/{project.pk}/").content.decode()
    assert "Or choose words in the transcript" in page and 'value="3"' in page
    response = client.post(
        f"/redaction/{project.pk}/audio/words", {"word": ["3", "4", "5"], "mode": "bleep"}
    )
    assert response.status_code == 302
    [added] = AudioRange.objects.filter(project=project)
    assert (added.mode, added.note) == ("bleep", "words: 12 Elm Road")
    assert added.start_s == pytest.approx(4.0 + 1.5 - 0.15)
    assert added.end_s == pytest.approx(4.0 + 2.5 + 0.4 + 0.15)
    steps = [
        json.loads(e.entry)["details"].get("step")
        for e in CustodyEntry.objects.filter(action="redaction")
    ]
    assert "audio-range-add" in steps
    bad = client.post(f"/redaction/{project.pk}/audio/words", {"word": ["99"]})
    assert bad.status_code == 400
