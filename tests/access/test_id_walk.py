"""ID walking over every route, object kind and role (issue 11, "make the probing permanent").

The routes come from the URL resolver, so a new route that takes an object id and has no
entry in WALK fails `test_every_route_is_walked`. For each role (and 'no role') the walk
asks each route about an object of a recording that role may not see (filmed by another
team, restricted to someone else) and about an id that names nothing. Neither may answer
2xx, both must answer the same status, and nothing may name the recording. Routes that
take no object id are listed in NO_OBJECT_ID; those walked elsewhere in ELSEWHERE.

The upload routes are walked here as Django serves them (tus answers 501 here, and no
user session is a Swift credential); as the ASGI app serves them, with device tokens and
Swift credentials, in tests/uploads/test_upload_id_walk.py and test_swift_id_walk.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from access_support import START, incident, people, recording
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from overt.access import grants
from overt.access.matrix import Action, Capability, Role, has_capability
from overt.access.models import Alert
from overt.access.services import allowed
from overt.cases import items, sharing
from overt.cases import services as cases
from overt.custody.services import Actor
from overt.evidence.models import Derivative
from overt.jobs.models import Job
from overt.redaction.models import AudioRange, Box, RedactionProject, Track
from overt.review.models import SavedSearch, SyncOffset
from overt.testing.access import make_user, sign_in
from overt.uploads.models import AxisContainer, AxisObject, Upload

BY = Actor.system("test")
MISSING = 987654321
TITLE = "Walked target"
ROLES: list[Role | None] = [None, *Role]
REASON = {"category": "Investigation", "text": "walking ids"}

# Routes that name no object (lists, forms, sign-in, the schema, health).
NO_OBJECT_ID = {
    "healthz", "metrics", "api-schema", "api-recordings", "api-jobs", "login", "login-totp",
    "login-totp-setup", "logout", "oidc_authentication_init", "oidc_authentication_callback",
    "access-alerts", "access-post-incident", "verifier-key", "inclusion", "consistency",
    "checkpoint-latest", "verify-latest", "retention", "retention-upcoming-json",
    "upload-new", "redaction-list", "library", "jobs", "save-search", "axis-auth",
    "cases", "library-bulk", "shares", "shared-with-me", "api-cases", "api-shares",
    "api-shared-with-me",
    # Portal pages, lists and create forms; the custody log's own pages.
    "home", "api-docs", "map-base", "custody-browser", "custody-checkpoints", "custody-verifier",
    "access-users", "access-tokens", "device-tokens", "device-enrolment", "upload-source",
    # Oversight lists, figures, imports and draws (a team and a week, no object).
    "oversight", "oversight-report", "oversight-attendances", "oversight-complaints",
    "oversight-my-reviews", "api-deployments", "api-compliance", "api-complaints",
    "api-complaint-figures", "api-review-draws", "api-my-reviews", "api-reports",
    # Fleet lists and profiles; a device's own status, config and peers (its token names
    # it), enrolment (the one-time code is the credential), a new manifest.
    "fleet", "fleet-profiles", "api-devices", "api-fleet-csv", "api-fleet-profiles",
    "api-device-status", "api-device-config", "api-device-peers", "api-device-enrol",
    "api-capture-manifests", "retention-policies",
}  # fmt: skip
# Routes with an id that are walked elsewhere, and why.
ELSEWHERE = {
    "retention-certificate-json": "manage-retention checked before any lookup: tests/retention",
    "retention-certificate-pdf": "manage-retention checked before any lookup: tests/retention",
    # An outside share's link: its 128-bit id is the secret, then a rate-limited code.
    "api-capture-manifest": "device tokens, ASGI: tests/uploads/test_upload_id_walk.py",
    "recipient": "link ids, guessing and codes: tests/cases/test_sharing.py",
    "recipient-watch": "needs the link's code first: tests/cases/test_sharing.py",
    "recipient-stream": "needs the link's code first: tests/cases/test_sharing.py",
    "recipient-download": "needs the link's code first: tests/cases/test_sharing.py",
}


@dataclass(frozen=True)
class Probe:
    method: str
    url: str  # with {id} for the walked object
    kind: str  # which object of the scene fills {id}
    body: dict | None = None
    json: bool = False
    # The role may see this object through this route (so it is not walked): by default,
    # when it may take `action` on the target recording.
    action: Action = Action.LIST
    capability: Capability | None = None  # ...or when it holds this capability
    no_session: bool = False  # no user session may use the route at all: walk every role
    field: str | None = None  # the id goes in this form field (or JSON key), not the URL
    # Walk only the roles that hold this capability (and may not `action` the recording):
    # the route is theirs, but the recording it names is not (tests/access, new apps).
    holders_of: Capability | None = None


DERIVED = [k.value for k in Derivative.Kind]
WALK: dict[str, list[Probe]] = {
    "release": [
        Probe("get", "/recordings/{id}/release", "recording"),
        Probe("post", "/recordings/{id}/release", "recording", {"export": "1", **REASON}),
    ],
    "api-download": [Probe("post", "/api/originals/{id}/download/", "original", REASON, json=True)],
    "api-export": [Probe("post", "/api/recordings/{id}/export/", "recording", REASON, json=True)],
    "api-recording": [
        Probe("get", "/api/recordings/{id}/", "recording"),
        Probe("patch", "/api/recordings/{id}/", "recording", {"incident": ""}, json=True),
    ],
    "api-recording-markers": [
        Probe("post", "/api/recordings/{id}/markers/", "recording", {"text": "x"}, json=True)
    ],
    "api-recording-clips": [
        Probe("post", "/api/recordings/{id}/clips/", "recording", {"in_s": 0}, json=True)
    ],
    "api-recording-stills": [
        Probe("post", "/api/recordings/{id}/stills/", "recording", {"at_s": 0}, json=True)
    ],
    "api-recording-timeline": [Probe("get", "/api/recordings/{id}/timeline/", "recording")],
    "api-marker": [
        Probe("patch", "/api/markers/{id}/", "marker", {"text": "x"}, json=True),
        Probe("delete", "/api/markers/{id}/", "marker"),
    ],
    "api-original": [Probe("get", "/api/originals/{id}/", "original")],
    "api-derived-job": [Probe("get", "/api/jobs/{id}/derived/", "job")],
    "api-incident-sync": [
        Probe("get", "/api/incidents/{id}/sync/", "incident"),
        Probe("post", "/api/incidents/{id}/sync/", "incident"),
    ],
    "api-sync-offset": [
        Probe("put", "/api/sync-offsets/{id}/", "sync-offset", {"offset_s": 1}, json=True)
    ],
    "access-break-glass": [
        # The form itself is the same page for every id; opening is break-glass's purpose.
        Probe(
            "post",
            "/access/break-glass/{id}/",
            "recording",
            {"reason": "walking ids here"},
            capability=Capability.BREAK_GLASS,
        ),
    ],
    "recording-access": [Probe("get", "/recordings/{id}/access", "recording")],
    "access-alert-acknowledge": [
        Probe("post", "/access/alerts/{id}/acknowledge", "alert", capability=Capability.SEE_ALERTS)
    ],
    "access-post-incident-release": [
        Probe("post", "/access/post-incident/{id}/release", "procedure")
    ],
    "entries": [
        Probe("get", "/api/custody/entries?object={id}", k, action=Action.AUDIT)
        for k in ["sha:original", *(f"sha:{d}" for d in DERIVED)]
    ],
    "report": [
        Probe("get", f"/api/custody/reports/{{id}}.{fmt}", "recording", action=Action.AUDIT)
        for fmt in ("json", "zip")
    ],
    "redaction-create": [Probe("post", "/redaction/new", "original-form")],
    "redaction-project": [Probe("get", "/redaction/{id}/", "project")],
    "redaction-data": [Probe("get", "/redaction/{id}/data.json", "project")],
    "redaction-track-add": [Probe("post", "/redaction/{id}/tracks/new", "project")],
    "redaction-thumb": [Probe("get", "/redaction/{id}/tracks/1/thumb.jpg", "project")],
    "redaction-include": [Probe("post", "/redaction/{id}/tracks/1/include", "project")],
    "redaction-keyframe": [Probe("post", "/redaction/{id}/tracks/1/keyframes", "project")],
    "redaction-keyframe-delete": [
        Probe("post", "/redaction/{id}/keyframes/{box}/delete", "project")
    ],
    "redaction-audio-add": [Probe("post", "/redaction/{id}/audio", "project")],
    "redaction-audio-remove": [Probe("post", "/redaction/{id}/audio/{audio}/delete", "project")],
    "redaction-render": [Probe("post", "/redaction/{id}/render", "project")],
    "recording": [
        Probe("get", "/recordings/{id}/", "recording"),
        Probe("post", "/recordings/{id}/", "recording", REASON),
    ],
    "derivative-media": [
        Probe("get", "/media/derivatives/{id}", f"derivative:{d}") for d in DERIVED
    ],
    "poster-thumbnail": [
        Probe("get", "/media/derivatives/{id}/thumbnail", f"derivative:{d}") for d in DERIVED
    ],
    "incident": [Probe("get", "/incidents/{id}/", "incident")],
    "delete-search": [Probe("post", "/searches/{id}/delete/", "search")],
    "tus": [
        Probe(m, "/files/{id}", "upload", no_session=True)
        for m in ("head", "get", "patch", "delete", "post")
    ],
    "swift-account": [
        Probe(m, "/swift/v1/{id}", "axis-account", no_session=True) for m in ("get", "head")
    ],
    "swift-container": [
        Probe(m, "/swift/v1/AUTH_axis/{id}", "axis-container", no_session=True)
        for m in ("get", "head", "put", "post", "delete")
    ],
    "swift-object": [
        Probe(m, "/swift/v1/AUTH_axis/{id}/clip_1.mkv", "axis-container", no_session=True)
        for m in ("get", "head", "put", "post", "delete")
    ],
}
# An id of the right form that names nothing, where a bare number would not be one.
MISSING_OF = {
    "upload": "0" * 32, "axis-account": "AUTH_nobody", "share": "0" * 32,
    "complaint": "CMP/NOBODY", "device": "CAM-NOBODY",
}  # fmt: skip


def _routes(patterns: list, prefix: str = "") -> list[tuple[str, str]]:
    found = []
    for p in patterns:
        if isinstance(p, URLResolver):
            found += _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            found.append((p.name or "", prefix + str(p.pattern)))
    return found


def test_every_route_is_walked() -> None:
    routes = _routes(get_resolver().url_patterns)
    unnamed = [r for n, r in routes if not n]
    assert not unnamed, f"name these routes so the walk can cover them: {unnamed}"
    names = {n for n, _ in routes}
    takes_id = {n for n, r in routes if re.search(r"<|\(\?P<", r)}
    from test_id_walk_new_apps import WALK_NEW_APPS  # the second half of the walk

    walked = set(WALK) | set(WALK_NEW_APPS)
    missing = takes_id - walked - set(ELSEWHERE)
    assert not missing, f"routes with an object id that the ID walk does not cover: {missing}"
    untold = names - takes_id - NO_OBJECT_ID - walked
    assert not untold, f"new routes: walk them, or list them in NO_OBJECT_ID: {untold}"
    assert walked | set(ELSEWHERE) | NO_OBJECT_ID <= names  # nothing stale


@pytest.fixture
def target(db) -> dict:
    """A recording only `keeper` may see, with one object of every kind hanging off it."""
    officers = people()
    keeper = make_user("keeper", Role.EVIDENCE_MANAGER)
    walked = incident("CAD 7/WALK")
    rec = recording(officers["MP3"], TITLE, incident=walked, salt="walk")
    other = recording(officers["MP3"], f"{TITLE} two", incident=walked, salt="walk2")
    grants.set_access_class(rec, "confidential", by=BY, users=[keeper])
    grants.set_access_class(other, "confidential", by=BY, users=[keeper])
    original = rec.originals.get()
    for kind in DERIVED:
        if not original.derivatives.filter(kind=kind).exists():
            Derivative.objects.create(
                original=original, kind=kind, sha256=f"{len(kind):02d}{kind[:2].encode().hex()}"
                .ljust(64, "e"), size=1, content_type="application/octet-stream",
                generator="test", generator_version="1",
            )  # fmt: skip
    project = RedactionProject.objects.create(original=original, created_by="keeper")
    track = Track.objects.create(project=project, number=1, start_s=0, end_s=1)
    box = Box.objects.create(track=track, t=0, x1=0, y1=0, x2=1, y2=1, manual=True)
    audio = AudioRange.objects.create(project=project, start_s=0, end_s=1, mode="mute")
    marker = rec.markers.create(at=START, text="walked", created_by="keeper")
    job = Job.objects.create(kind="review.clip", key="review.clip:walk", params={
        "original": original.pk})  # fmt: skip
    offset = SyncOffset.objects.create(reference=original, other=other.originals.get())
    alert = Alert.objects.create(kind=Alert.Kind.BREAK_GLASS, message="x", recording=rec)
    procedure = grants.start_post_incident(
        incident("CAD 8/SHOOT"), officers=[officers["MP3"]], manager=keeper, by=BY
    )
    search = SavedSearch.objects.create(owner=keeper, name="mine", query="q=walk")
    upload = Upload.objects.create(
        id="a" * 32, principal_kind="user", principal="keeper", officer_number="MP3",
        device_serial="CAM-ACCESS", filename="walked.mp4", length=10,
        expires_at=START + timedelta(days=3650),
    )  # fmt: skip
    container = AxisContainer.objects.create(
        name=f"MP3_CAM-ACCESS_{TITLE.replace(' ', '')}", kind=AxisContainer.Kind.RECORDING,
        recording=rec, status=AxisContainer.Status.COMPLETE,
    )  # fmt: skip
    container.items.create(name="clip_1.mkv", kind=AxisObject.Kind.CLIP, original=original)
    case = cases.create_case(keeper, "URN WALK", TITLE)
    case_item = items.add_recording(keeper, case, rec.pk)
    outside = sharing.create_share(
        keeper,
        case=case.pk,
        recipient_name="Walker",
        recipient_email="walk@example.org",
        expires_at=timezone.now() + timedelta(days=30),
    )
    ids: dict[str, object] = {
        "case": case.pk, "case-item": case_item.pk, "share": outside.share.pk,
        "recording": rec.pk, "original": original.pk, "project": project.pk,
        "marker": marker.pk, "job": job.pk, "incident": walked.pk, "sync-offset": offset.pk,
        "alert": alert.pk, "procedure": procedure.pk, "search": search.pk,
        "sha:original": original.sha256, "box": box.pk, "audio": audio.pk,
        "upload": upload.pk, "axis-account": "AUTH_axis", "axis-container": container.name,
    }  # fmt: skip
    for d in original.derivatives.all():
        ids[f"derivative:{d.kind}"], ids[f"sha:{d.kind}"] = d.pk, d.sha256
    return {"recording": rec, "ids": ids, "original": original}


def _actor(role: Role | None):  # type: ignore[no-untyped-def]
    officers = people()
    with_officer = role in (Role.OFFICER, Role.SUPERVISOR)
    user = make_user(
        f"walker-{role or 'none'}",
        role,
        officer=officers["MP1"] if with_officer else None,
        team="Alpha" if role is Role.SUPERVISOR else "",
    )
    return user


def _call(client: Client, probe: Probe, url: str, value: object):  # type: ignore[no-untyped-def]
    # A bytes value is a file's content: a fresh upload for each call (multipart).
    body = {
        k: SimpleUploadedFile("walk.pdf", v) if isinstance(v, bytes) else v
        for k, v in (probe.body or {}).items()
    }
    if probe.kind == "original-form":
        body["original"] = value
    if probe.field:
        body[probe.field] = value
    call: Callable = getattr(client, probe.method)
    if probe.json:
        return call(url, body, content_type="application/json")
    return call(url, body) if probe.method == "post" else call(url)


def walk(
    client: Client,
    user: Any,
    role: Role | None,
    walked: dict[str, list[Probe]],
    ids: dict,
    rec: Any,
) -> list[str]:
    """Ask every probe about the walked object and about a missing id; the failures."""
    failures = []
    fill = {"box": "box", "audio": "audio", "item": "case-item", "case": "case",
            "render": "render", "finding": "finding", "complaint": "complaint"}  # fmt: skip
    for name, probes in walked.items():
        for probe in probes:
            if probe.holders_of is not None and not has_capability(role, probe.holders_of):
                continue  # the route refuses the role outright: the main walk asks that
            if not probe.no_session and (
                allowed(user, probe.action, rec)
                or (probe.capability is not None and has_capability(role, probe.capability))
            ):
                continue  # the role may see it: the matrix tests check what it gets
            kind = "original" if probe.kind == "original-form" else probe.kind
            answers = []
            nothing = MISSING_OF.get(kind, "f" * 64 if kind.startswith("sha:") else MISSING)
            for value in (ids[kind], nothing):
                url = probe.url.format(id=value, **{k: ids.get(v) for k, v in fill.items()})
                response = _call(client, probe, url, value)
                text = response.content.decode(errors="replace") if not getattr(
                    response, "streaming", False) else ""  # fmt: skip
                answers.append(response.status_code)
                if TITLE in text:
                    failures.append(f"{name} {probe.method} {url} names the recording")
            seen, missing = answers
            if 200 <= seen < 400 or seen != missing:
                failures.append(f"{name} {probe.method} {probe.kind}: {seen} vs missing {missing}")
    return failures


@pytest.mark.parametrize("role", ROLES, ids=lambda r: str(r or "no-role"))
def test_no_role_learns_of_objects_it_may_not_see(target: dict, role: Role | None) -> None:
    user = _actor(role)
    client = sign_in(Client(), user)
    failures = walk(client, user, role, WALK, target["ids"], target["recording"])
    assert not failures, f"{role}:\n" + "\n".join(failures)
