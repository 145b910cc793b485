"""No page tells a user that an object they may not see exists (issue 11, item 3).

Redaction pages, `POST /redaction/new` with another user's original, the break-glass page
and a post-incident release used to answer 403 for objects that exist and 404 for those
that don't. Now both are 404; 403 is kept for objects the user already knows of.
"""

from __future__ import annotations

import pytest
from access_support import incident, people, recording
from django.test import Client

from overt.access import grants
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.redaction.models import RedactionProject
from overt.testing.access import make_user, sign_in

BY = Actor.system("test")
MISSING = 987654


@pytest.fixture
def scene(db) -> dict:
    officers = people()
    theirs = recording(officers["MP3"], "Someone else's footage")
    mine = recording(officers["MP1"], "My own footage")
    project = RedactionProject.objects.create(original=theirs.originals.get(), created_by="em")
    own_project = RedactionProject.objects.create(original=mine.originals.get(), created_by="em")
    return {"theirs": theirs, "mine": mine, "project": project, "own_project": own_project}


def _statuses(client: Client, method: str, urls: list[str], data: dict | None = None) -> list:
    call = client.get if method == "get" else client.post
    return [call(url, data or {}).status_code for url in urls]


REDACTION_ROUTES = [
    ("get", "/redaction/{}/"),
    ("get", "/redaction/{}/data.json"),
    ("get", "/redaction/{}/tracks/1/thumb.jpg"),
    ("post", "/redaction/{}/tracks/new"),
    ("post", "/redaction/{}/tracks/1/include"),
    ("post", "/redaction/{}/tracks/1/keyframes"),
    ("post", "/redaction/{}/keyframes/1/delete"),
    ("post", "/redaction/{}/audio"),
    ("post", "/redaction/{}/audio/1/delete"),
    ("post", "/redaction/{}/render"),
]


@pytest.mark.parametrize(("method", "route"), REDACTION_ROUTES)
def test_redaction_project_routes_answer_404_for_unseen_and_missing(
    client: Client, scene, method: str, route: str
) -> None:
    sign_in(client, make_user("pc", "officer", officer="MP1"))
    unseen, missing = _statuses(
        client, method, [route.format(scene["project"].pk), route.format(MISSING)]
    )
    assert (unseen, missing) == (404, 404)
    # A project of footage the officer may list (their own) but not redact: 403, no oracle.
    assert _statuses(client, method, [route.format(scene["own_project"].pk)]) == [403]


def test_new_redaction_of_an_unseen_original_is_404(client: Client, scene) -> None:
    sign_in(client, make_user("pc", "officer", officer="MP1"))
    theirs = scene["theirs"].originals.get().pk
    unseen = client.post("/redaction/new", {"original": theirs}).status_code
    missing = client.post("/redaction/new", {"original": MISSING}).status_code
    assert (unseen, missing) == (404, 404)
    own = client.post("/redaction/new", {"original": scene["mine"].originals.get().pk})
    assert own.status_code == 403
    assert not RedactionProject.objects.filter(created_by="pc").exists()


def test_break_glass_answers_the_same_for_any_id(client: Client, scene) -> None:
    officers = people()
    sign_in(client, make_user("sgt", "supervisor", team="Alpha", officer=officers["MP2"]))
    theirs = scene["theirs"].pk
    assert _statuses(client, "get", [f"/access/break-glass/{i}/" for i in (theirs, MISSING)]) == [
        200,
        200,
    ]
    reason = {"reason": "A missing person, last seen on this footage"}
    assert client.post(f"/access/break-glass/{MISSING}/", reason).status_code == 404
    probe = CustodyEntry.objects.filter(action="access-refused", actor="user:sgt").last()
    assert probe is not None and f'"recording":{MISSING}' in probe.entry  # probing is logged

    # Footage of an incident the supervisor is involved in, by another team's officer: the
    # lock refuses break-glass, and the refusal must not reveal that the recording exists.
    shooting = incident("CAD 1/SHOOT")
    locked = recording(officers["MP3"], "Shooting, other camera", incident=shooting)
    own_locked = recording(officers["MP2"], "Shooting, own camera", incident=shooting)
    pim = make_user("pim", "evidence-manager")
    grants.start_post_incident(shooting, officers=[officers["MP2"]], manager=pim, by=BY)
    assert client.post(f"/access/break-glass/{locked.pk}/", reason).status_code == 404
    assert client.post(f"/access/break-glass/{own_locked.pk}/", reason).status_code == 403


def test_post_incident_release_by_anyone_else_is_404(client: Client, db) -> None:
    officers = people()
    pim = make_user("pim", "evidence-manager")
    row = grants.start_post_incident(
        incident("CAD 1/SHOOT"), officers=[officers["MP1"]], manager=pim, by=BY
    )
    sign_in(client, make_user("em2", "evidence-manager"))
    urls = [f"/access/post-incident/{i}/release" for i in (row.pk, MISSING)]
    assert _statuses(client, "post", urls) == [404, 404]
    row.refresh_from_db()
    assert row.released_at is None
    assert CustodyEntry.objects.filter(action="access-refused", actor="user:em2").exists()
