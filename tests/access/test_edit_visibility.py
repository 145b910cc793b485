"""A property of the matrix: no edit by any role changes who else may see a recording,
unless that role holds manage-access, and then the change is on the record.

Exhaustive rather than sampled: every role (and 'no role') x every recording of a scene
that covers each way an incident carries access (a post-incident lock, an incident
assignment, none, no incident) x every field the edit API takes, each value tried. Each
edit runs in a savepoint that is rolled back, so every case starts from the same world.
"""

from __future__ import annotations

import json
from itertools import product

import pytest
from access_support import incident, people, recording
from django.db import transaction
from django.test import Client
from django.utils import timezone

from overt.access import grants, services
from overt.access.matrix import Capability, Role, has_capability
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.evidence.models import Category, Recording
from overt.testing.access import make_user, sign_in

BY = Actor.system("test")
ROLES: list[Role | None] = [None, *Role]

# Every field of PATCH /api/recordings/{id}/, with the values worth trying.
EDITS: list[dict] = [
    {"title": "Renamed"},
    {"notes": "A note"},
    {"tags": ["kept"]},
    {"categories": ["Visibility test"]},
    {"incident": ""},
    {"incident": None},
    {"incident": "CAD 1/SHOOT"},  # under post-incident procedure
    {"incident": "CAD 2/ASSIGNED"},  # an investigator is assigned to the whole incident
    {"incident": "CAD 3/PLAIN"},  # carries no access of its own
    {"incident": "CAD 9/NEW", "incident_title": "Made by the edit"},
]


@pytest.fixture
def world(db) -> dict:
    officers = people()
    Category.objects.get_or_create(name="Visibility test")
    pim = make_user("pim", Role.EVIDENCE_MANAGER)
    locked, assigned, plain = incident("CAD 1/SHOOT"), incident("CAD 2/ASSIGNED"), incident(
        "CAD 3/PLAIN"
    )
    recordings = [
        recording(officers["MP1"], "Locked", incident=locked),
        recording(officers["MP2"], "Assigned", incident=assigned),
        recording(officers["MP2"], "Plain", incident=plain),
        recording(officers["MP3"], "Loose"),
    ]
    grants.start_post_incident(locked, officers=[officers["MP1"]], manager=pim, by=BY)
    observers = [
        pim,
        make_user("obs-pc1", Role.OFFICER, officer=officers["MP1"]),
        make_user("obs-pc2", Role.OFFICER, officer=officers["MP2"]),
        make_user("obs-pc3", Role.OFFICER, officer=officers["MP3"]),
        make_user("obs-sgt-bravo", Role.SUPERVISOR, team="Bravo"),
        make_user("obs-inv-locked", Role.INVESTIGATOR),
        make_user("obs-inv-assigned", Role.INVESTIGATOR),
        make_user("obs-prosecutor", Role.PROSECUTOR),
        make_user("obs-auditor", Role.AUDITOR),
    ]
    grants.assign(observers[5], by=BY, incident=locked)
    grants.assign(observers[6], by=BY, incident=assigned)
    grants.share(
        recordings[2], observers[7], expires_at=timezone.now() + timezone.timedelta(days=1), by=BY
    )
    actors = {}
    for role in ROLES:
        name = f"actor-{role or 'none'}"
        # The actors reach every recording their role can: the team Alpha supervisor, an
        # investigator assigned to two incidents.
        user = make_user(name, role, team="Alpha" if role is Role.SUPERVISOR else "")
        if role is Role.INVESTIGATOR:
            grants.assign(user, by=BY, incident=assigned)
            grants.assign(user, by=BY, incident=locked)
        actors[role] = user
    return {"recordings": recordings, "observers": observers, "actors": actors}


def visibility(users: list, rec: Recording) -> dict[str, frozenset]:  # type: ignore[type-arg]
    fresh = Recording.objects.get(pk=rec.pk)
    return {u.get_username(): services.actions_allowed(u, fresh) for u in users}


# One test per acting role: the same cases, each test well inside the suite's per-test
# timeout on a loaded machine (all roles in one test took over 300 s there).
@pytest.mark.parametrize("role", ROLES, ids=lambda r: str(r or "no-role"))
def test_no_edit_changes_anyone_elses_visibility(world: dict, role: Role | None) -> None:
    everyone = world["observers"] + list(world["actors"].values())
    baseline = {rec.pk: visibility(everyone, rec) for rec in world["recordings"]}
    failures = _walk(world, role, baseline)
    assert not failures, "\n".join(failures)


def _walk(world: dict, role: Role | None, baseline: dict) -> list[str]:
    """Every edit by `role`; each case is rolled back, so `baseline` holds before each."""
    actor = world["actors"][role]
    others = [u for u in world["observers"] + list(world["actors"].values()) if u != actor]
    client = sign_in(Client(), actor)
    manages = has_capability(role, Capability.MANAGE_ACCESS)
    failures: list[str] = []
    succeeded, changed_by_manager = 0, 0
    for rec, edit in product(world["recordings"], EDITS):
        before = {u.get_username(): baseline[rec.pk][u.get_username()] for u in others}
        with transaction.atomic():
            mark = CustodyEntry.objects.count()
            response = client.patch(
                f"/api/recordings/{rec.pk}/",
                {**edit, "reason": "property"},
                content_type="application/json",
            )
            assert response.status_code in (200, 403, 404), (rec.title, edit, response.content)
            succeeded += response.status_code == 200
            after = visibility(others, rec)
            moved = [
                json.loads(e.entry)["details"]
                for e in CustodyEntry.objects.filter(index__gte=mark, action="permission-change")
            ]
            transaction.set_rollback(True)
        if after == before:
            continue
        changed = sorted(n for n in before if before[n] != after[n])
        if not manages:
            failures.append(f"{role} changed {changed}'s access to {rec.title} by {edit}")
        elif [m["change"] for m in moved] != ["incident-move"]:
            failures.append(f"{role} changed {changed}'s access to {rec.title}, unlogged")
        else:
            changed_by_manager += 1
    # Not vacuous: roles that edit did edit, and the role that manages access did move
    # access (explicitly, checked above).
    edits_anything = role in (Role.SUPERVISOR, Role.EVIDENCE_MANAGER, Role.INVESTIGATOR)
    if not failures:
        assert (succeeded > 0) is edits_anything, role
        assert (changed_by_manager > 0) is manages, role
    return failures
