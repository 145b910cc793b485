"""The issue's rules, one by one: the matrix says them, and the grants behind the
relations (post-incident procedure, access classes, break-glass, shares, tokens) work
and are on the record."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from access_support import incident, people, recording
from django.test import Client
from django.utils import timezone

from overt.access import grants, identity, services
from overt.access.matrix import (
    BASE_RELATIONS,
    Action,
    Relation,
    Role,
    allowed_actions,
)
from overt.access.models import Alert
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.testing.access import make_user, sign_in

BY = Actor("user", "evidence")
FOOTAGE = {Action.VIEW, Action.STREAM, Action.DOWNLOAD, Action.EXPORT}


def entries(action: str) -> list[dict]:
    return [
        json.loads(e.entry) for e in CustodyEntry.objects.filter(action=action).order_by("index")
    ]


# --- the matrix states the rules ---------------------------------------------------------


def test_officers_see_only_their_own_and_never_alter_it() -> None:
    own = allowed_actions(Role.OFFICER, frozenset({Relation.OWN}))
    assert {Action.VIEW, Action.STREAM} <= own
    assert not own & {Action.EDIT, Action.REDACT, Action.DOWNLOAD, Action.EXPORT}
    for relation in (Relation.TEAM, Relation.OTHER, Relation.SHARED, Relation.ASSIGNED):
        assert not allowed_actions(Role.OFFICER, frozenset({relation}))


def test_supervisors_see_their_team() -> None:
    assert Action.STREAM in allowed_actions(Role.SUPERVISOR, frozenset({Relation.TEAM}))
    assert not allowed_actions(Role.SUPERVISOR, frozenset({Relation.OTHER}))


def test_evidence_managers_see_everything_but_restricted() -> None:
    for relation in BASE_RELATIONS:
        assert allowed_actions(Role.EVIDENCE_MANAGER, frozenset({relation})) == set(Action)
    assert not allowed_actions(
        Role.EVIDENCE_MANAGER, frozenset({Relation.OTHER, Relation.RESTRICTED})
    )


def test_investigators_see_what_they_are_assigned() -> None:
    assert Action.STREAM in allowed_actions(Role.INVESTIGATOR, frozenset({Relation.ASSIGNED}))
    assert not allowed_actions(Role.INVESTIGATOR, frozenset({Relation.OTHER}))


def test_prosecutors_see_only_what_is_shared() -> None:
    # Shared with them, or an item of a case they are on (issue 17: "access given on a case
    # extends to its items, through the existing access matrix"; docs/access.md, `case`).
    assert Action.STREAM in allowed_actions(Role.PROSECUTOR, frozenset({Relation.CASE}))
    assert Action.STREAM in allowed_actions(Role.PROSECUTOR, frozenset({Relation.SHARED}))
    for relation in set(BASE_RELATIONS) - {Relation.SHARED, Relation.CASE}:
        assert not allowed_actions(Role.PROSECUTOR, frozenset({relation}))


def test_auditors_read_the_log_but_never_the_video() -> None:
    for relation in BASE_RELATIONS:
        assert allowed_actions(Role.AUDITOR, frozenset({relation})) == {Action.AUDIT}


def test_administrators_see_no_footage() -> None:
    for relation in Relation:
        assert not allowed_actions(Role.ADMIN, frozenset({relation, Relation.OTHER}))


def test_involved_officers_are_locked_out_even_with_break_glass() -> None:
    for role in (Role.OFFICER, Role.SUPERVISOR):
        locked = frozenset({Relation.OWN, Relation.TEAM, Relation.LOCKED, Relation.BREAK_GLASS})
        assert allowed_actions(role, locked) <= {Action.LIST}


# --- post-incident procedure -------------------------------------------------------------


@pytest.fixture
def shooting(db: None) -> dict:
    officers = people()
    pim = make_user("pim", "supervisor", team="Bravo")
    officer = make_user("pc.one", "officer", officer=officers["MP1"])
    rec = recording(officers["MP1"], "Shooting bodycam", incident=incident("CAD 7/SHOT"))
    procedure = grants.start_post_incident(
        rec.incident, officers=[officers["MP1"]], manager=pim, by=BY
    )  # type: ignore[arg-type]
    return {"pim": pim, "officer": officer, "recording": rec, "procedure": procedure}


def test_post_incident_lock_refuses_and_logs_every_attempt(client: Client, shooting: dict) -> None:
    rec = shooting["recording"]
    sign_in(client, shooting["officer"])
    assert "Shooting bodycam" in client.get("/").content.decode()  # they know it exists
    page = client.get(f"/recordings/{rec.pk}/")
    assert page.status_code == 403
    watch = client.post(
        f"/recordings/{rec.pk}/", {"category": "Investigation", "text": "my account"}
    )
    assert watch.status_code == 403
    proxy = rec.originals.get().derivatives.get(kind="proxy")
    media = client.get(f"/media/derivatives/{proxy.pk}")
    assert media.status_code == 403 and "post-incident" in media.json()["detail"]
    assert client.get(f"/api/recordings/{rec.pk}/").status_code == 403
    refused = [e for e in entries("access-refused") if e["actor"]["id"] == "pc.one"]
    assert len(refused) == 4
    assert all("post-incident-locked" in e["details"]["relations"] for e in refused)
    assert entries("view") == []
    start = [
        e for e in entries("permission-change") if e["details"]["change"] == "post-incident-start"
    ]
    assert start[0]["details"]["officers"] == ["MP1"] and start[0]["details"]["manager"] == "pim"


def test_only_the_post_incident_manager_releases(client: Client, shooting: dict) -> None:
    procedure = shooting["procedure"]
    intruder = make_user("someone", "evidence-manager")
    sign_in(client, intruder)
    assert client.post(f"/access/post-incident/{procedure.pk}/release").status_code == 404  # no oracle: as for no procedure
    assert entries("access-refused")[-1]["details"]["action"] == "post-incident-release"

    pim = Client()
    sign_in(pim, shooting["pim"])
    assert "CAD 7/SHOT" in pim.get("/access/post-incident/").content.decode()
    released = pim.post(
        f"/access/post-incident/{procedure.pk}/release", {"note": "first accounts taken"}
    )
    assert released.status_code == 302
    procedure.refresh_from_db()
    assert procedure.released_at is not None and procedure.released_by == "user:pim"
    release = entries("permission-change")[-1]
    assert release["details"]["change"] == "post-incident-release"
    assert release["justification"] == "first accounts taken"

    officer = Client()
    sign_in(officer, shooting["officer"])
    rec = shooting["recording"]
    assert officer.get(f"/recordings/{rec.pk}/").status_code == 200
    assert (
        officer.post(
            f"/recordings/{rec.pk}/", {"category": "Investigation", "text": "after release"}
        ).status_code
        == 302
    )


# --- access classes and break-glass ------------------------------------------------------


def test_access_class_limits_to_named_users_and_roles(db: None) -> None:
    officers = people()
    named = make_user("named", "investigator")
    em = make_user("em", "evidence-manager")
    auditor = make_user("aud", "auditor")
    rec = recording(officers["MP3"], "Covert source meeting")
    grants.set_access_class(
        rec, "confidential", by=BY, users=[named], roles=["auditor"], reason="CHIS"
    )
    assert not services.visible_recordings(em).filter(pk=rec.pk).exists()
    assert not services.allowed(em, Action.VIEW, rec)
    assert services.allowed(auditor, Action.AUDIT, rec)  # the named role
    assert not services.allowed(named, Action.VIEW, rec)  # named, but not assigned
    grants.assign(named, by=BY, recording=rec)
    identity.forget(named)
    assert services.allowed(named, Action.STREAM, rec)
    change = [e for e in entries("permission-change") if e["details"]["change"] == "access-class"]
    assert change[0]["details"] == {
        "change": "access-class",
        "level": "confidential",
        "users": ["named"],
        "roles": ["auditor"],
    }
    grants.clear_access_class(rec, by=BY)
    identity.forget(em)
    assert services.allowed(em, Action.VIEW, rec)


def test_break_glass_opens_logs_and_alerts(client: Client, db: None) -> None:
    officers = people()
    sup = make_user("sup", "supervisor", team="Alpha")
    rec = recording(officers["MP3"], "Missing child search")
    sign_in(client, sup)
    assert client.get(f"/recordings/{rec.pk}/").status_code == 404
    form = client.get(f"/access/break-glass/{rec.pk}/")
    assert form.status_code == 200 and "Missing child search" not in form.content.decode()
    assert client.post(f"/access/break-glass/{rec.pk}/", {"reason": "short"}).status_code == 400
    opened = client.post(
        f"/access/break-glass/{rec.pk}/", {"reason": "Child missing, footage shows last sighting"}
    )
    assert opened.status_code == 302 and opened["Location"] == f"/recordings/{rec.pk}/"
    assert client.get(f"/recordings/{rec.pk}/").status_code == 200
    assert (
        client.post(
            f"/recordings/{rec.pk}/", {"category": "Investigation", "text": "last sighting"}
        ).status_code
        == 302
    )
    glass = entries("break-glass")
    assert glass[0]["actor"]["id"] == "sup" and "last sighting" in glass[0]["justification"]
    alert = Alert.objects.get(kind="break-glass")
    assert alert.recording == rec and alert.username == "sup"

    manager = Client()
    sign_in(manager, make_user("em", "evidence-manager"))
    page = manager.get("/access/alerts/").content.decode()
    assert "sup used break-glass access" in page
    assert manager.post(f"/access/alerts/{alert.pk}/acknowledge").status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == "em"
    assert client.get("/access/alerts/").status_code == 403  # supervisors see no alerts


def test_officers_cannot_break_glass(client: Client, db: None) -> None:
    officers = people()
    rec = recording(officers["MP3"], "Elsewhere")
    sign_in(client, make_user("bob", "officer", officer=officers["MP1"]))
    assert client.get(f"/access/break-glass/{rec.pk}/").status_code == 403
    assert (
        client.post(
            f"/access/break-glass/{rec.pk}/", {"reason": "I would like to see it"}
        ).status_code
        == 403
    )
    assert not Alert.objects.exists()


# --- shares, roles, tokens ---------------------------------------------------------------


def test_shares_expire_and_can_be_revoked(db: None) -> None:
    officers = people()
    cps = make_user("cps", "prosecutor")
    rec = recording(officers["MP3"], "Charging file")
    row = grants.share(
        rec, cps, expires_at=timezone.now() + timedelta(days=3), by=BY, reason="charging"
    )
    assert services.allowed(cps, Action.STREAM, rec)
    assert entries("share")[0]["details"]["grantee"] == "cps"
    row.expires_at = timezone.now() - timedelta(seconds=1)
    row.save()
    identity.forget(cps)
    assert not services.visible_recordings(cps).exists()
    row.expires_at = timezone.now() + timedelta(days=1)
    row.save()
    grants.revoke_share(row, by=BY)
    identity.forget(cps)
    assert not services.allowed(cps, Action.LIST, rec)
    with pytest.raises(grants.GrantError):
        grants.share(rec, cps, expires_at=timezone.now() - timedelta(days=1), by=BY)


def test_role_changes_are_logged(db: None) -> None:
    user = make_user("bob")
    grants.set_role(user, "auditor", by=BY)
    grants.set_role(user, "supervisor", team="Alpha", by=BY)
    changes = [e["details"] for e in entries("permission-change")]
    assert changes[0]["before"]["role"] == "" and changes[0]["after"]["role"] == "auditor"
    assert changes[1]["before"]["role"] == "auditor" and changes[1]["after"]["team"] == "Alpha"
    with pytest.raises(grants.GrantError):
        grants.set_role(user, "admin", officer=people()["MP1"], by=BY)


def test_users_without_a_role_see_nothing(client: Client, db: None) -> None:
    recording(people()["MP1"], "Unseen recording 42")
    sign_in(client, make_user("nobody"))
    assert "Unseen recording 42" not in client.get("/").content.decode()
    assert client.get("/api/recordings/").json()["results"] == []


def test_scoped_api_tokens(db: None) -> None:
    officers = people()
    rec = recording(officers["MP3"], "Integration target")
    em = make_user("rms", "evidence-manager")
    row, text = grants.create_token(em, "RMS sync", ["list"], by=BY)
    assert row.digest != text and text not in json.dumps(row.scopes)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {text}")
    listed = api.get("/api/recordings/")
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["results"]] == [rec.pk]
    detail = api.get(f"/api/recordings/{rec.pk}/")
    assert detail.status_code == 403 and "scopes" in detail.json()["detail"]
    assert api.get("/api/custody/checkpoints/latest").status_code == 403  # no read-custody
    assert api.get("/").status_code == 302  # tokens are for the API only

    officer_token = grants.create_token(
        make_user("bob", "officer", officer=officers["MP1"]), "x", ["list", "view"], by=BY
    )[1]
    as_officer = Client(HTTP_AUTHORIZATION=f"Bearer {officer_token}")
    assert as_officer.get("/api/recordings/").json()["results"] == []  # never above the role

    grants.revoke_token(row, by=BY)
    revoked = api.get("/api/recordings/")
    # 403, not 401: session authentication comes first and sends no WWW-Authenticate.
    assert revoked.status_code == 403 and revoked["Content-Type"] == "application/problem+json"
    assert revoked.json()["detail"] == "unknown or revoked token"
    assert Client(HTTP_AUTHORIZATION="Bearer ovt_nope").get("/api/recordings/").status_code == 403
    changes = [e["details"]["change"] for e in entries("permission-change")]
    assert changes.count("token-created") == 2 and changes.count("token-revoked") == 1


def test_justification_categories_are_a_setting(settings_env) -> None:
    settings_env(justification_categories="Investigation,FOI request")
    assert services.justification_categories() == ("Investigation", "FOI request")
