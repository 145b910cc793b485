"""/recordings/ID/access: an evidence manager manages who may see one recording (its
access class, assignments and shares) from the web. Every change goes through
overt.access.grants, so it is in the custody log; bad input changes nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from access_support import incident, people, recording
from django.test import Client
from django.utils import timezone

from overt.access import grants
from overt.access.models import AccessClass, AccessClassMember, Assignment, Share
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Recording
from overt.testing.access import make_user, sign_in

REFUSED_ROLES = [None, "officer", "supervisor", "investigator", "prosecutor", "auditor", "admin"]


def url(rec: Recording) -> str:
    return f"/recordings/{rec.pk}/access"


def entries(action: str | None = None) -> list[dict]:
    rows = CustodyEntry.objects.order_by("index")
    if action is not None:
        rows = rows.filter(action=action)
    return [json.loads(r.entry) for r in rows]


def local(when) -> str:  # type: ignore[no-untyped-def]
    """What a browser's datetime-local input sends, in the display time zone."""
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def api_ids(client: Client) -> set[int]:
    response = client.get("/api/recordings/")
    assert response.status_code == 200
    return {r["id"] for r in response.json()["results"]}


@pytest.fixture
def scene(db: None, client: Client) -> dict:
    officers = people()
    em = make_user("em", "evidence-manager")
    sign_in(client, em)
    return {
        "client": client,
        "em": em,
        "rec": recording(officers["MP3"], "Arrest on High Street"),
        "officers": officers,
    }


def _unchanged(before: dict) -> None:
    assert CustodyEntry.objects.count() == before["custody"]
    assert AccessClass.objects.count() == before["classes"]
    assert Assignment.objects.filter(ended_at__isnull=True).count() == before["assignments"]
    assert Share.active().count() == before["shares"]


def _snapshot() -> dict:
    return {
        "custody": CustodyEntry.objects.count(),
        "classes": AccessClass.objects.count(),
        "assignments": Assignment.objects.filter(ended_at__isnull=True).count(),
        "shares": Share.active().count(),
    }


# --- who may open it ----------------------------------------------------------------------


def test_an_evidence_manager_sees_the_page(scene: dict) -> None:
    response = scene["client"].get(url(scene["rec"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Arrest on High Street" in html
    assert "Who may see this recording" in html
    for heading in ("Access class", "Assignments", "Shares"):
        assert heading in html
    assert "<script" not in html and " on" + "click=" not in html  # the CSP allows neither
    assert 'for="id_share-expires_at"' in html and 'id="id_share-expires_at"' in html


@pytest.mark.parametrize("role", REFUSED_ROLES)
def test_other_roles_are_refused(db: None, role: str | None) -> None:
    officers = people()
    # Each may otherwise see the recording where their role can: its officer, its team.
    rec = recording(officers["MP1"], "Team Alpha footage")
    user = make_user(
        "someone",
        role,
        officer=officers["MP1"] if role in ("officer", "supervisor") else None,
        team="Alpha" if role == "supervisor" else "",
    )
    client = sign_in(Client(), user)
    before = _snapshot()
    for response in (
        client.get(url(rec)),
        client.post(url(rec), {"form": "share", "share-username": "someone"}),
        client.post(url(rec), {"form": "classify", "class-level": "restricted"}),
    ):
        assert response.status_code == 403
        assert b"Team Alpha footage" not in response.content
    _unchanged(before)


def test_signed_out_goes_to_sign_in(db: None) -> None:
    rec = recording(people()["MP1"], "Footage")
    response = Client().get(url(rec))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_recording_they_may_not_know_of_is_404(scene: dict) -> None:
    client, rec = scene["client"], scene["rec"]
    assert client.get("/recordings/999999/access").status_code == 404
    # Confidential, naming neither the manager nor their role: not even listed for them.
    grants.set_access_class(
        rec, "confidential", by=Actor.system("test"), users=[make_user("inv", "investigator")]
    )
    before = _snapshot()
    for response in (
        client.get(url(rec)),
        client.post(url(rec), {"form": "declassify", "clear-reason": "let me in"}),
    ):
        assert response.status_code == 404
        assert b"Arrest on High Street" not in response.content
    _unchanged(before)


def test_the_recording_page_links_to_it_for_managers_only(scene: dict) -> None:
    rec, link = scene["rec"], f'href="/recordings/{scene["rec"].pk}/access"'
    assert link in scene["client"].get(f"/recordings/{rec.pk}/").content.decode()
    supervisor = make_user("sup", "supervisor", team="Bravo")  # may view it, not manage it
    page = sign_in(Client(), supervisor).get(f"/recordings/{rec.pk}/")
    assert page.status_code == 200 and link not in page.content.decode()


# --- access class -------------------------------------------------------------------------


def test_set_and_clear_the_access_class(scene: dict) -> None:
    client, rec = scene["client"], scene["rec"]
    make_user("inv", "investigator")
    make_user("inv2", "investigator")
    response = client.post(
        url(rec),
        {
            "form": "classify",
            "class-level": "confidential",
            "class-users": ["inv", "inv2"],
            "class-roles": ["evidence-manager"],
            "class-reason": "victim is a minor",
        },
        HTTP_USER_AGENT="test-browser",
    )
    assert response.status_code == 302 and response["Location"] == url(rec)
    row = AccessClass.objects.get(recording=rec)
    assert row.level == "confidential" and row.reason == "victim is a minor"
    members = AccessClassMember.objects.filter(access_class=row)
    assert sorted(m.user.username for m in members if m.user_id) == ["inv", "inv2"]
    assert [m.role for m in members if m.role] == ["evidence-manager"]
    (entry,) = entries("permission-change")
    assert entry["actor"] == {"kind": "user", "id": "em"}
    assert entry["object"]["ids"] == {"original": rec.originals.get().pk, "recording": rec.pk}
    assert entry["justification"] == "victim is a minor"
    assert entry["client"] == {"address": "127.0.0.1", "user_agent": "test-browser"}
    assert entry["details"] == {
        "change": "access-class",
        "level": "confidential",
        "users": ["inv", "inv2"],
        "roles": ["evidence-manager"],
    }
    page = client.get(url(rec)).content.decode()
    assert "This recording is now confidential." in page  # the message after the redirect
    assert "inv, inv2" in page

    response = client.post(url(rec), {"form": "declassify", "clear-reason": "now charged"})
    assert response.status_code == 302
    assert not AccessClass.objects.filter(recording=rec).exists()
    cleared = entries("permission-change")[-1]
    assert cleared["details"] == {"change": "access-class-cleared"}
    assert cleared["justification"] == "now charged" and cleared["actor"]["id"] == "em"
    assert cleared["client"]["address"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"class-users": "nobody", "class-roles": ["evidence-manager"]}, "no user &#x27;nobody"),
        ({"class-roles": ["chief-constable"]}, "There is no role chief-constable"),
        ({"class-roles": ["evidence-manager"], "class-reason": ""}, "Say why you"),
        ({"class-level": "secret", "class-roles": ["evidence-manager"]}, "Choose restricted"),
        ({}, "Name at least one user or role"),
    ],
)
def test_bad_access_class_input_changes_nothing(scene: dict, data: dict, message: str) -> None:
    client, rec = scene["client"], scene["rec"]
    before = _snapshot()
    post = {"form": "classify", "class-level": "restricted", "class-reason": "sensitive"}
    response = client.post(url(rec), post | data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary" role="alert"' in html and message in html
    _unchanged(before)


def test_clearing_without_a_reason_or_a_class_changes_nothing(scene: dict) -> None:
    client, rec = scene["client"], scene["rec"]
    before = _snapshot()
    nothing = client.post(url(rec), {"form": "declassify", "clear-reason": "tidy up"})
    assert nothing.status_code == 400 and "no access class to clear" in nothing.content.decode()
    grants.set_access_class(rec, "restricted", by=Actor.system("test"), roles=["evidence-manager"])
    before = _snapshot()
    no_reason = client.post(url(rec), {"form": "declassify", "clear-reason": " "})
    assert no_reason.status_code == 400
    _unchanged(before)


def test_leaving_yourself_out_needs_a_tick(scene: dict) -> None:
    client, rec = scene["client"], scene["rec"]
    make_user("inv", "investigator")
    post = {
        "form": "classify",
        "class-level": "confidential",
        "class-users": ["inv"],
        "class-reason": "professional standards only",
    }
    before = _snapshot()
    refused = client.post(url(rec), post)
    assert refused.status_code == 400
    assert "you would no longer see" in refused.content.decode()
    _unchanged(before)
    done = client.post(url(rec), post | {"class-exclude_me": "on"})
    assert done.status_code == 302 and done["Location"] == "/"
    assert AccessClass.objects.get(recording=rec).level == "confidential"
    assert client.get(url(rec)).status_code == 404  # as warned


# --- assignments --------------------------------------------------------------------------


def test_assign_and_end_an_assignment(scene: dict) -> None:
    client, rec = scene["client"], scene["rec"]
    inv = make_user("inv", "investigator")
    investigator = sign_in(Client(), inv)
    assert rec.pk not in api_ids(investigator)
    response = client.post(
        url(rec),
        {
            "form": "assign",
            "assign-username": "inv",
            "assign-target": "recording",
            "assign-reason": "complaint 41",
        },
    )
    assert response.status_code == 302 and response["Location"] == url(rec)
    row = Assignment.objects.get(user=inv)
    assert row.recording == rec and row.reason == "complaint 41" and row.created_by == "user:em"
    (entry,) = entries("permission-change")
    assert entry["actor"]["id"] == "em" and entry["justification"] == "complaint 41"
    assert entry["details"] == {"change": "assign", "user": "inv", "recording": rec.pk}
    assert entry["client"]["address"] == "127.0.0.1"
    assert rec.pk in api_ids(investigator)
    page = client.get(url(rec)).content.decode()
    assert "inv is assigned." in page and "complaint 41" in page

    response = client.post(url(rec), {"form": "end-assignment", "assignment": row.pk})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.ended_at is not None and row.ended_by == "user:em"
    ended = entries("permission-change")[-1]
    assert ended["details"] == {"change": "unassign", "user": "inv"}
    assert ended["object"]["ids"] == {"assignment": row.pk}
    assert ended["actor"]["id"] == "em" and ended["client"]["address"] == "127.0.0.1"
    assert rec.pk not in api_ids(investigator)
    # Ending it again changes nothing.
    before = _snapshot()
    again = client.post(url(rec), {"form": "end-assignment", "assignment": row.pk})
    assert again.status_code == 400 and "ended already" in again.content.decode()
    _unchanged(before)


def test_assign_to_the_incident(scene: dict) -> None:
    client, officers = scene["client"], scene["officers"]
    shooting = incident("CAD 7/JAN")
    rec = recording(officers["MP3"], "Camera one", incident=shooting)
    other = recording(officers["MP2"], "Camera two", incident=shooting)
    inv = make_user("inv", "investigator")
    response = client.post(
        url(rec),
        {
            "form": "assign",
            "assign-username": "inv",
            "assign-target": "incident",
            "assign-reason": "IOPC referral",
        },
    )
    assert response.status_code == 302
    row = Assignment.objects.get(user=inv)
    assert row.incident == shooting and row.recording is None
    assert entries("permission-change")[-1]["details"]["incident"] == "CAD 7/JAN"
    assert {rec.pk, other.pk} <= api_ids(sign_in(Client(), inv))
    # The other camera's page shows the same assignment, with an End button for it.
    page = client.get(url(other)).content.decode()
    assert "every recording of incident CAD 7/JAN" in page
    assert f'name="assignment" value="{row.pk}"' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"assign-username": "ghost"}, "There is no user &#x27;ghost&#x27;."),
        ({"assign-username": "cps"}, "has the prosecutor role, which gets nothing"),
        ({"assign-reason": ""}, "Say why you are assigning them."),
        ({"assign-target": "incident"}, "Choose this recording or its incident."),  # it has none
        ({"assign-username": "assigned"}, "already assigned"),
    ],
)
def test_bad_assignment_input_changes_nothing(scene: dict, data: dict, message: str) -> None:
    client, rec = scene["client"], scene["rec"]
    make_user("inv", "investigator")
    make_user("cps", "prosecutor")
    grants.assign(make_user("assigned", "investigator"), by=Actor.system("t"), recording=rec)
    before = _snapshot()
    post = {
        "form": "assign",
        "assign-username": "inv",
        "assign-target": "recording",
        "assign-reason": "complaint",
    }
    response = client.post(url(rec), post | data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary" role="alert"' in html and message in html
    _unchanged(before)


# --- shares -------------------------------------------------------------------------------


def test_share_then_revoke_and_the_prosecutor_sees_it_only_meanwhile(scene: dict) -> None:
    client, rec = scene["client"], scene["rec"]
    cps = make_user("cps", "prosecutor")
    prosecutor = sign_in(Client(), cps)
    assert rec.pk not in api_ids(prosecutor)
    until = timezone.now() + timedelta(days=14)
    response = client.post(
        url(rec),
        {
            "form": "share",
            "share-username": "cps",
            "share-expires_at": local(until),
            "share-reason": "charging decision",
        },
    )
    assert response.status_code == 302 and response["Location"] == url(rec)
    row = Share.objects.get(grantee=cps)
    assert row.recording == rec and row.revoked_at is None and row.created_by == "user:em"
    assert abs((row.expires_at - until).total_seconds()) < 60  # the minute the form carries
    (entry,) = entries("share")
    assert entry["actor"] == {"kind": "user", "id": "em"}
    assert entry["justification"] == "charging decision"
    assert entry["client"]["address"] == "127.0.0.1"
    assert entry["details"]["grantee"] == "cps" and entry["details"]["share"] == row.pk
    assert entry["details"]["expires_at"] == row.expires_at.isoformat()
    assert entry["object"]["ids"] == {"original": rec.originals.get().pk, "recording": rec.pk}
    assert rec.pk in api_ids(prosecutor)
    page = client.get(url(rec)).content.decode()
    assert "Shared with cps until" in page and f'name="share" value="{row.pk}"' in page

    response = client.post(url(rec), {"form": "revoke-share", "share": row.pk})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None and row.revoked_by == "user:em"
    revoked = entries("permission-change")[-1]
    assert revoked["details"] == {"change": "share-revoked", "share": row.pk, "grantee": "cps"}
    assert revoked["actor"]["id"] == "em" and revoked["client"]["address"] == "127.0.0.1"
    assert rec.pk not in api_ids(prosecutor)
    assert prosecutor.get(f"/api/recordings/{rec.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"share-expires_at": "past"}, "The share must end in the future."),
        ({"share-expires_at": "late"}, "A share lasts at most 365 days"),
        ({"share-expires_at": "not a date"}, "Enter the date and time the share ends"),
        ({"share-expires_at": ""}, "Enter the date and time the share ends."),
        ({"share-username": "ghost"}, "There is no user &#x27;ghost&#x27;."),
        ({"share-username": "inv"}, "has the investigator role, which gets nothing"),
        ({"share-reason": ""}, "Say why you are sharing it."),
    ],
)
def test_bad_share_input_changes_nothing(scene: dict, data: dict, message: str) -> None:
    client, rec = scene["client"], scene["rec"]
    make_user("cps", "prosecutor")
    make_user("inv", "investigator")
    now = timezone.now()
    when = {"past": local(now - timedelta(hours=1)), "late": local(now + timedelta(days=366))}
    if data.get("share-expires_at") in when:
        data = data | {"share-expires_at": when[data["share-expires_at"]]}
    before = _snapshot()
    post = {
        "form": "share",
        "share-username": "cps",
        "share-expires_at": local(now + timedelta(days=7)),
        "share-reason": "charging decision",
    }
    response = client.post(url(rec), post | data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary" role="alert"' in html and message in html
    assert 'aria-invalid="true"' in html
    _unchanged(before)


def test_a_share_of_another_recording_is_not_revoked_here(scene: dict) -> None:
    client, rec = scene["client"], scene["rec"]
    other = recording(scene["officers"]["MP1"], "Other footage")
    row = grants.share(
        other,
        make_user("cps", "prosecutor"),
        expires_at=timezone.now() + timedelta(days=1),
        by=Actor.system("t"),
    )
    before = _snapshot()
    for post in (
        {"form": "revoke-share", "share": row.pk},
        {"form": "revoke-share", "share": "x"},
        {"form": "end-assignment"},
        {"form": "something-else"},
    ):
        assert client.post(url(rec), post).status_code == 400
    _unchanged(before)
    row.refresh_from_db()
    assert row.revoked_at is None


def test_access_class_members_are_picked_not_typed(scene: dict) -> None:
    """Issue 19: the member field listed typed usernames; now each active user is a
    checkbox with their role, the current members ticked."""
    client, rec = scene["client"], scene["rec"]
    make_user("inv", "investigator")
    gone = make_user("gone", "investigator")
    gone.is_active = False
    gone.save()
    page = client.get(url(rec)).content.decode()
    assert 'name="class-users" value="inv"' in page and "inv (investigator)" in page
    assert 'value="gone"' not in page  # a disabled user is not offered
    assert '<input type="text" name="class-users"' not in page
    client.post(
        url(rec),
        {
            "form": "classify",
            "class-level": "restricted",
            "class-users": ["inv", "em"],
            "class-reason": "sensitive",
        },
    )
    page = client.get(url(rec)).content.decode()
    assert re.search(r'name="class-users" value="inv"[^>]*checked', page)
    refused = client.post(
        url(rec),
        {"form": "classify", "class-level": "restricted", "class-users": ["gone", "em"]}
        | {"class-reason": "sensitive"},
    )
    assert refused.status_code == 400 and "no user &#x27;gone" in refused.content.decode()
