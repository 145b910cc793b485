"""Who reads the custody entries of a restricted recording (issue 11, item 2).

The read-custody capability used to open every object's entries: the evidence manager read
those of a confidential recording it could not even list. Now an object of a recording
needs the `audit` action on it (its access class applies), the auditor keeps oversight,
and every read is itself logged.
"""

from __future__ import annotations

import json

import pytest
from access_support import people, recording
from django.test import Client

from overt.access import grants
from overt.custody.models import CustodyEntry
from overt.custody.services import Actor
from overt.testing.access import make_user, sign_in


@pytest.fixture
def confidential(db):  # type: ignore[no-untyped-def]
    rec = recording(people()["MP3"], "Confidential footage")
    named = make_user("named-em", "evidence-manager")
    grants.set_access_class(rec, "confidential", by=Actor.system("test"), users=[named])
    return rec


def _get(user, sha: str):  # type: ignore[no-untyped-def]
    return sign_in(Client(), user).get(f"/api/custody/entries?object={sha}&justification=check")


def _objects(rec) -> list[str]:  # type: ignore[no-untyped-def]
    original = rec.originals.get()
    return [original.sha256, *original.derivatives.values_list("sha256", flat=True)]


def test_manager_left_out_of_the_class_reads_nothing(confidential) -> None:
    manager = make_user("em", "evidence-manager")
    unknown = _get(manager, "ab" * 32)
    for sha in _objects(confidential):
        refused = _get(manager, sha)
        assert refused.status_code == 404, sha
        assert refused.json() == unknown.json()  # no oracle: same as no such object
        assert "Confidential" not in refused.content.decode()
    refusals = CustodyEntry.objects.filter(action="access-refused", actor="user:em")
    assert refusals.count() == len(_objects(confidential))
    assert not CustodyEntry.objects.filter(action="export", actor="user:em").exists()


@pytest.mark.parametrize("reader", ["auditor", "named-em"])
def test_auditor_and_named_users_read_and_the_read_is_logged(confidential, reader: str) -> None:
    user = make_user(reader, "auditor") if reader == "auditor" else None
    if user is None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get(username=reader)
    sha = confidential.originals.get().sha256
    response = _get(user, sha)
    assert response.status_code == 200, response.content
    read = json.loads(CustodyEntry.objects.filter(action="export").last().entry)
    assert read["actor"] == {"kind": "user", "id": reader}
    assert read["details"] == {"what": "custody entries", "recording": confidential.pk}
    assert read["justification"] == "check"
    listed = [json.loads(e["entry"]) for e in response.json()["entries"]]
    assert listed[-1] == read  # the read is in what it read: same transaction
    assert any(e["action"] == "permission-change" for e in listed)


def test_entries_of_an_object_of_no_recording_need_only_read_custody(db) -> None:
    from overt.custody.services import Subject, record_now

    record_now("verify", Actor.system("test"), Subject("cd" * 32))
    response = _get(make_user("em", "evidence-manager"), "cd" * 32)
    assert response.status_code == 200
    assert [e["action"] for e in response.json()["entries"]] == ["verify"]
