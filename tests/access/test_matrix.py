"""The generated matrix test: every role (and 'no role') x every relation, each action
through the web pages and the API, against what overt.access.matrix says.

For each (role, relation) a scene puts one recording in that relation to a signed-in user;
each action is then tried through every route that performs it (PROBES). Allowed actions
must succeed and leave their custody entry; refused ones must fail without revealing the
recording. Every action is also checked through the access service itself; a route added
for an action belongs in PROBES.
The matrix size is printed in the terminal summary (tests/access/conftest.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from access_support import incident, people, recording
from django.test import Client
from django.utils import timezone

from overt.access import grants, services
from overt.access.matrix import (
    ROLES_WITH_OFFICER,
    Action,
    Relation,
    Role,
    allowed_actions,
)
from overt.access.models import BreakGlass
from overt.cases import items
from overt.cases import services as cases
from overt.cases.models import CaseMember
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Recording
from overt.testing.access import make_user, sign_in

ROLES: list[Role | None] = [None, *Role]


@dataclass
class Scene:
    client: Client
    user: object
    recording: Recording
    relations: frozenset[Relation]
    username: str

    @property
    def original(self):  # type: ignore[no-untyped-def]
        return self.recording.originals.get()

    def derivative(self, kind: str):  # type: ignore[no-untyped-def]
        return self.original.derivatives.get(kind=kind)


def build(client: Client, role: Role | None, relation: Relation) -> Scene:
    officers = people()
    name = f"u-{role or 'none'}"
    has_officer = role in ROLES_WITH_OFFICER
    user = make_user(
        name,
        role,
        officer=officers["MP1"] if has_officer else None,
        team="Alpha" if role is Role.SUPERVISOR else "",
    )
    other = make_user("someone-else", Role.EVIDENCE_MANAGER)
    title = f"Target {role or 'none'} {relation}"
    by = Actor.system("test")
    mine = {Relation.OWN} if has_officer else {Relation.OTHER}
    # The officer role's team is its officer's (Alpha); a supervisor's is the one it leads.
    in_team = has_officer
    if relation is Relation.OWN:
        rec = recording(officers["MP1"], title)
        expected = mine
    elif relation is Relation.TEAM:
        rec = recording(officers["MP2"], title)
        expected = {Relation.TEAM} if in_team else {Relation.OTHER}
    elif relation is Relation.ASSIGNED:
        rec = recording(officers["MP3"], title)
        grants.assign(user, by=by, recording=rec)
        expected = {Relation.ASSIGNED}
    elif relation is Relation.SHARED:
        rec = recording(officers["MP3"], title)
        grants.share(rec, user, expires_at=timezone.now() + timedelta(days=1), by=by)
        expected = {Relation.SHARED}
    elif relation is Relation.CASE:
        rec = recording(officers["MP3"], title)
        on_case = cases.create_case(other, f"URN {title}", title)
        items.add_recording(other, on_case, rec.pk)
        CaseMember.objects.create(case=on_case, user=user, part="member", added_by="test")
        expected = {Relation.CASE}
    elif relation is Relation.OTHER:
        rec = recording(officers["MP3"], title)
        expected = {Relation.OTHER}
    elif relation is Relation.LOCKED:
        rec = recording(officers["MP1"], title, incident=incident("CAD 1/SHOOT"))
        grants.start_post_incident(
            rec.incident,
            officers=[officers["MP1"]],
            manager=other,
            by=by,  # type: ignore[arg-type]
        )
        expected = {Relation.OWN, Relation.LOCKED} if has_officer else {Relation.OTHER}
    elif relation is Relation.RESTRICTED:
        rec = recording(officers["MP1"], title)
        grants.set_access_class(rec, "restricted", by=by, users=[other])
        expected = mine | {Relation.RESTRICTED}
    else:  # break-glass: opened in an emergency (rows made directly: not every role may)
        rec = recording(officers["MP3"], title)
        BreakGlass.objects.create(
            user=user,
            recording=rec,
            reason="matrix test",
            expires_at=timezone.now() + timedelta(hours=1),
        )
        expected = {Relation.OTHER, Relation.BREAK_GLASS}
    if role is None:
        expected = set(services.relations(user, rec))  # a user without a role: relations
        # still describe the recording, but no cell grants anything
    sign_in(client, user)
    return Scene(client, user, rec, frozenset(expected), name)


def entries(scene: Scene, action: str) -> list[dict]:
    rows = CustodyEntry.objects.filter(action=action, actor=f"user:{scene.username}")
    return [json.loads(r.entry) for r in rows]


# --- probes: one per route that performs an action ---------------------------------------


def ui_library(s: Scene, allowed: bool) -> None:
    html = s.client.get("/").content.decode()
    assert (s.recording.title in html) is allowed


def api_list(s: Scene, allowed: bool) -> None:
    response = s.client.get("/api/recordings/")
    assert response.status_code == 200
    ids = [r["id"] for r in response.json()["results"]]
    assert (s.recording.pk in ids) is allowed
    if not allowed:
        assert s.recording.title not in response.content.decode()


def _denied(response, title: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (403, 404), response.status_code
    assert title not in response.content.decode()


def ui_page(s: Scene, allowed: bool) -> None:
    response = s.client.get(f"/recordings/{s.recording.pk}/")
    if allowed:
        assert response.status_code == 200
        assert s.recording.title in response.content.decode()
    else:
        _denied(response, s.recording.title)


def api_detail(s: Scene, allowed: bool) -> None:
    for url in (f"/api/recordings/{s.recording.pk}/", f"/api/originals/{s.original.pk}/"):
        response = s.client.get(url)
        if allowed:
            assert response.status_code == 200, (url, response.content)
        else:
            _denied(response, s.recording.title)


def ui_poster(s: Scene, allowed: bool) -> None:
    """The library's list picture (the full poster is footage: see ui_watch)."""
    response = s.client.get(f"/media/derivatives/{s.derivative('poster').pk}/thumbnail")
    assert (response.status_code == 200) is allowed, response.status_code


def ui_watch(s: Scene, allowed: bool) -> None:
    """Justify on the recording page, then play the proxy: one `view` entry."""
    text = f"matrix check {s.username}"
    response = s.client.post(
        f"/recordings/{s.recording.pk}/", {"category": "Investigation", "text": text}
    )
    proxy = s.client.get(f"/media/derivatives/{s.derivative('proxy').pk}")
    poster = s.client.get(f"/media/derivatives/{s.derivative('poster').pk}")
    logged = [
        e for e in entries(s, "view") if e["object"]["ids"].get("recording") == s.recording.pk
    ]
    if allowed:
        assert response.status_code == 302
        assert proxy.status_code == 200 and poster.status_code == 200
        assert len(b"".join(proxy.streaming_content)) == s.derivative("proxy").size
        assert [e["justification"] for e in logged] == [f"Investigation: {text}"]
    else:
        assert response.status_code in (403, 404)
        assert proxy.status_code in (403, 404) and poster.status_code in (403, 404)
        assert logged == []


def api_custody_report(s: Scene, allowed: bool) -> None:
    response = s.client.get(
        f"/api/custody/reports/{s.recording.pk}.json?justification=matrix%20audit"
    )
    logged = [
        e
        for e in entries(s, "export")
        if e["object"]["ids"].get("recording") == s.recording.pk
        and e["details"]["what"] == "custody report"
    ]
    if allowed:
        assert response.status_code == 200
        assert [e["justification"] for e in logged] == ["matrix audit"]
    else:
        _denied(response, s.recording.title)
        assert logged == []


def ui_redaction(s: Scene, allowed: bool) -> None:
    listing = s.client.get("/redaction/").content.decode()
    assert (s.recording.title in listing) is allowed
    response = s.client.post("/redaction/new", {"original": s.original.pk, "title": "matrix"})
    assert (response.status_code == 302) is allowed, response.status_code


REASON = {"category": "Investigation", "text": "matrix check"}


def _released(s: Scene, response, action: str, before: int, allowed: bool) -> bytes:  # type: ignore[no-untyped-def]
    """The body of an allowed release, after checking its custody entries; b"" if refused."""
    logged = [
        e for e in entries(s, action) if e["object"]["ids"].get("recording") == s.recording.pk
    ]
    if allowed:
        assert response.status_code == 200, response.status_code
        assert len(logged) == before + 1
        assert logged[-1]["justification"] == "Investigation: matrix check"
        return b"".join(response.streaming_content)
    assert response.status_code in (403, 404), response.status_code
    if response.status_code == 404:
        assert s.recording.title not in response.content.decode()
    assert len(logged) == before
    return b""


def _count(s: Scene, action: str) -> int:
    return sum(e["object"]["ids"].get("recording") == s.recording.pk for e in entries(s, action))


def api_download(s: Scene, allowed: bool) -> None:
    before = _count(s, "download")
    response = s.client.post(
        f"/api/originals/{s.original.pk}/download/", REASON, content_type="application/json"
    )
    body = _released(s, response, "download", before, allowed)
    if allowed:
        assert hashlib.sha256(body).hexdigest() == s.original.sha256


def ui_download(s: Scene, allowed: bool) -> None:
    before = _count(s, "download")
    response = s.client.post(
        f"/recordings/{s.recording.pk}/release", {"original": s.original.pk, **REASON}
    )
    body = _released(s, response, "download", before, allowed)
    if allowed:
        assert hashlib.sha256(body).hexdigest() == s.original.sha256


def api_export(s: Scene, allowed: bool) -> None:
    before = _count(s, "export")
    response = s.client.post(
        f"/api/recordings/{s.recording.pk}/export/", REASON, content_type="application/json"
    )
    body = _released(s, response, "export", before, allowed)
    if allowed:
        assert body.startswith(b"PK\x03\x04")


def ui_export(s: Scene, allowed: bool) -> None:
    before = _count(s, "export")
    response = s.client.post(f"/recordings/{s.recording.pk}/release", {"export": "1", **REASON})
    body = _released(s, response, "export", before, allowed)
    if allowed:
        assert body.startswith(b"PK\x03\x04")


def api_edit(s: Scene, allowed: bool) -> None:
    notes = f"matrix notes by {s.username}"
    response = s.client.patch(
        f"/api/recordings/{s.recording.pk}/",
        {"notes": notes, "reason": "matrix edit"},
        content_type="application/json",
    )
    logged = [
        e
        for e in entries(s, "metadata-change")
        if e["details"].get("recording") == s.recording.pk and e["details"]["field"] == "notes"
    ]
    if allowed:
        assert response.status_code == 200, response.content
        assert Recording.objects.get(pk=s.recording.pk).notes == notes
        assert [e["justification"] for e in logged] == ["matrix edit"]
    else:
        _denied(response, s.recording.title)
        assert Recording.objects.get(pk=s.recording.pk).notes != notes
        assert logged == []


def service(action: Action) -> Callable[[Scene, bool], None]:
    def probe(s: Scene, allowed: bool) -> None:
        assert services.allowed(s.user, action, s.recording) is allowed
        before = CustodyEntry.objects.filter(action="access-refused").count()
        if allowed:
            services.check(s.user, action, s.recording)
        else:
            with pytest.raises(services.AccessDenied):
                services.check(s.user, action, s.recording)
            assert CustodyEntry.objects.filter(action="access-refused").count() == before + 1

    probe.__name__ = f"service_{action.value}"
    return probe


# Which routes perform each action; `needs` lists the other actions a route also requires.
PROBES: dict[Action, list[tuple[str, Callable[[Scene, bool], None], frozenset[Action]]]] = {
    Action.LIST: [("ui", ui_library, frozenset()), ("api", api_list, frozenset())],
    Action.VIEW: [
        ("ui", ui_page, frozenset()),
        ("ui", ui_poster, frozenset()),
        ("api", api_detail, frozenset()),
    ],
    Action.STREAM: [("ui", ui_watch, frozenset({Action.VIEW}))],
    Action.DOWNLOAD: [("ui", ui_download, frozenset()), ("api", api_download, frozenset())],
    Action.EXPORT: [("ui", ui_export, frozenset()), ("api", api_export, frozenset())],
    Action.EDIT: [("api", api_edit, frozenset())],
    Action.REDACT: [("ui", ui_redaction, frozenset())],
    Action.AUDIT: [("api", api_custody_report, frozenset())],
}
# Every action also goes through the service itself (allowed() and a logged check()).
for _action in Action:
    if not any(kind == "service" for kind, _, _ in PROBES[_action]):
        PROBES[_action].append(("service", service(_action), frozenset()))


@pytest.mark.parametrize("relation", list(Relation), ids=str)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: str(r or "no-role"))
def test_matrix_cell(client: Client, db: None, role: Role | None, relation: Relation) -> None:
    scene = build(client, role, relation)
    if role is not None:
        assert services.relations(scene.user, scene.recording) == scene.relations
    allowed = allowed_actions(role, scene.relations)
    failures = []
    for action in Action:
        for surface, probe, needs in PROBES[action]:
            expect = action in allowed and needs <= allowed
            try:
                probe(scene, expect)
            except AssertionError as exc:
                failures.append(
                    f"{action} via {surface} {probe.__name__}: expected "
                    f"{'allowed' if expect else 'denied'} ({exc})"
                )
    assert not failures, "\n".join(failures)


def test_matrix_probe_table_covers_every_action() -> None:
    assert set(PROBES) == set(Action)
    for action, probes in PROBES.items():
        assert any(kind in ("ui", "api", "service") for kind, _, _ in probes), action
