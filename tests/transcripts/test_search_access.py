"""The search is permission-aware, cell by cell of the access matrix: every role (and no
role) x every relation, as the access tests build them (tests/access/test_matrix.py).

Words said count only where the user may play the footage (stream); everything else
where they may know the recording exists (list). Neither the API (count, results,
snippets) nor the library page (summary, rows, snippets, facets) shows anything more.
"""

from __future__ import annotations

import pytest
from django.test import Client
from search_support import PROVENANCE, spoken
from test_matrix import ROLES, build

from overt.access.matrix import Action, Relation, Role, allowed_actions
from overt.transcripts.services import save_machine_transcript

pytestmark = pytest.mark.scaled
SAID = "the quartzite zebra crossing was blocked"


@pytest.mark.parametrize("relation", list(Relation), ids=str)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: str(r or "no-role"))
def test_search_shows_only_what_the_cell_allows(
    client: Client, db: None, role: Role | None, relation: Relation
) -> None:
    scene = build(client, role, relation)
    save_machine_transcript(scene.original, spoken(SAID, 3.0), PROVENANCE)
    allowed = allowed_actions(role, scene.relations)
    may_list, may_play = Action.LIST in allowed, Action.STREAM in allowed and Action.LIST in allowed

    spoken_hit = client.get("/api/recordings/", {"q": "quartzite"})
    listed_hit = client.get("/api/recordings/", {"q": scene.recording.title})
    for response, expect in ((spoken_hit, may_play), (listed_hit, may_list)):
        if response.status_code == 403:  # no role: no API at all
            assert not expect
            continue
        body = response.json()
        assert body["count"] == (1 if expect else 0), (role, relation, body)
        assert [r["id"] for r in body["results"]] == ([scene.recording.pk] if expect else [])
    if may_play:
        assert "quartzite" in spoken_hit.json()["results"][0]["transcript_hit"]["text"]
    if listed_hit.status_code == 200 and may_list:
        hit = listed_hit.json()["results"][0]["transcript_hit"]
        assert hit is None  # found by its title: no words shown

    page = client.get("/", {"q": "quartzite"})
    if page.status_code == 200:
        text = page.content.decode()
        assert ("zebra" in text) == may_play, (role, relation)
        assert (scene.recording.title in text) == may_play
        facets = text.split('id="facets-heading"', 1)[-1] if 'id="facets-heading"' in text else ""
        assert ('class="facet-label"' in facets) == may_play  # no facet counts a hidden hit
        if not may_play:
            assert "No recordings" in text
