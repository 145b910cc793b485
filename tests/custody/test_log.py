"""The custody log itself: entries, the same-transaction rule, append-only triggers, the
process tree cache, proofs from it, signed checkpoints and the signing key."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from overt.custody import checkpoint as tlog
from overt.custody import tree
from overt.custody.canonical import canonical_json
from overt.custody.checkpoints import issue_checkpoint, latest_checkpoint
from overt.custody.errors import CustodyError, ProofError
from overt.custody.keys import (
    SigningKeyError,
    ensure_signing_key,
    key_path,
    load_signing_key,
    origin,
    verifier,
)
from overt.custody.merkle import (
    EMPTY_ROOT,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from overt.custody.models import Checkpoint, CustodyEntry, CustodyHead
from overt.custody.services import (
    ACTIONS,
    Action,
    Actor,
    Client,
    Subject,
    record,
    record_many,
)
from overt.evidence.models import Officer

SHA = "cd" * 32


def _view(i: int = 0) -> Action:
    return Action("view", Actor("user", "alice"), Subject(SHA, {"original": 7}), f"reason {i}")


def _stored_leaves() -> list[bytes]:
    return [bytes.fromhex(h) for h in CustodyEntry.objects.values_list("leaf_hash", flat=True)]


# --- entries ---------------------------------------------------------------------------------


@pytest.mark.scaled
def test_entry_is_canonical_json_hashed_as_an_rfc9162_leaf(db: None) -> None:
    with transaction.atomic():
        first = record("login", Actor("user", "alice"), client=Client("10.0.0.1", "Firefox"))
        second = record(
            "view",
            Actor("user", "alice"),
            Subject(SHA, {"original": 7, "recording": 3}),
            justification="Reviewing for file NFA 12/26",
            client=Client("10.0.0.1", "Firefox"),
        )
    assert (first.index, second.index) == (0, 1)
    assert json.loads(first.entry)["chain"] is None  # about no object
    body = json.loads(second.entry)
    assert body == {
        "v": 2,
        "seq": 1,
        "time": body["time"],
        "action": "view",
        "actor": {"kind": "user", "id": "alice"},
        "object": {"sha256": SHA, "ids": {"original": 7, "recording": 3}},
        "chain": {"n": 0, "prev": None},  # the first entry about this object
        "justification": "Reviewing for file NFA 12/26",
        "client": {"address": "10.0.0.1", "user_agent": "Firefox"},
        "details": {},
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", body["time"])
    assert second.entry.encode() == canonical_json(body)
    assert second.leaf_hash == leaf_hash(second.entry.encode()).hex()
    assert CustodyHead.objects.get().size == 2


@pytest.mark.django_db(transaction=True)
def test_the_vocabulary_is_closed_and_entries_need_a_transaction() -> None:
    assert {"ingest", "view", "export", "verify", "purge", "login-failed"} <= ACTIONS
    with transaction.atomic(), pytest.raises(CustodyError, match="unknown custody action"):
        record("peek", Actor.system())
    with pytest.raises(ValueError, match="actor kind"):
        Actor("robot", "x")
    with pytest.raises(CustodyError, match="inside the action's transaction"):
        record("view", Actor.system())
    with pytest.raises(CustodyError, match="inside the action's transaction"):
        record_many([_view()])
    assert not CustodyEntry.objects.exists()


@pytest.mark.scaled
def test_record_many_appends_a_gapless_group(db: None) -> None:
    with transaction.atomic():
        record("login", Actor("user", "bob"))
        entries = record_many(_view(i) for i in range(5))
        record("login", Actor("user", "bob"))
    assert [e.index for e in entries] == [1, 2, 3, 4, 5]
    assert list(CustodyEntry.objects.values_list("index", flat=True)) == list(range(7))
    assert [json.loads(e.entry)["seq"] for e in CustodyEntry.objects.all()] == list(range(7))
    assert CustodyHead.objects.get().size == 7


@pytest.mark.scaled
def test_a_rolled_back_action_leaves_no_entry(db: None) -> None:
    with transaction.atomic():
        record("login", Actor("user", "alice"))
    with pytest.raises(RuntimeError), transaction.atomic():
        Officer.objects.create(number="MP900", name="PC Rolled Back")
        record("metadata-change", Actor("user", "alice"), details={"officer": "MP900"})
        record_many(_view(i) for i in range(3))
        raise RuntimeError("the action failed after logging")
    assert not Officer.objects.filter(number="MP900").exists()
    assert CustodyEntry.objects.count() == 1
    assert CustodyHead.objects.get().size == 1
    with transaction.atomic():
        assert record("view", Actor("user", "alice")).index == 1  # no gap left behind


@pytest.mark.scaled
@pytest.mark.django_db(transaction=True)
def test_an_action_and_its_entry_commit_together() -> None:
    with transaction.atomic():
        officer = Officer.objects.create(number="MP901", name="PC Committed")
        record("metadata-change", Actor("user", "alice"), details={"officer": officer.number})
    with pytest.raises(RuntimeError), transaction.atomic():
        Officer.objects.create(number="MP902", name="PC Never")
        record("metadata-change", Actor("user", "alice"), details={"officer": "MP902"})
        raise RuntimeError("rolled back for real: no test transaction around this one")
    # Autocommit: what is visible now is what the database committed.
    assert connection.get_autocommit()
    assert list(Officer.objects.values_list("number", flat=True)) == ["MP901"]
    [entry] = CustodyEntry.objects.all()
    assert json.loads(entry.entry)["details"] == {"officer": "MP901"}


@pytest.mark.scaled
@pytest.mark.parametrize("table", ["custody_custodyentry", "custody_checkpoint"])
@pytest.mark.parametrize("statement", ["UPDATE", "DELETE"])
def test_triggers_refuse_update_and_delete(db: None, table: str, statement: str) -> None:
    with transaction.atomic():
        record("login", Actor("user", "alice"))
    issue_checkpoint()
    sql = {
        ("custody_custodyentry", "UPDATE"): "UPDATE custody_custodyentry SET actor = 'user:eve'",
        ("custody_custodyentry", "DELETE"): "DELETE FROM custody_custodyentry",
        ("custody_checkpoint", "UPDATE"): "UPDATE custody_checkpoint SET note = 'forged'",
        ("custody_checkpoint", "DELETE"): "DELETE FROM custody_checkpoint",
    }[(table, statement)]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows = (CustodyEntry if table == "custody_custodyentry" else Checkpoint).objects.all()
        if statement == "UPDATE":
            rows.update(issued_at=None) if table == "custody_checkpoint" else rows.update(actor="x")
        else:
            rows.delete()
    assert CustodyEntry.objects.count() == 1 and Checkpoint.objects.count() == 1


# --- the tree cache and proofs ----------------------------------------------------------------


@pytest.mark.scaled
def test_cached_tree_follows_appends_made_elsewhere(db: None) -> None:
    assert tree.root() == (0, EMPTY_ROOT)
    with transaction.atomic():
        record_many(_view(i) for i in range(3))
    assert tree.root() == (3, root_from_leaf_hashes(_stored_leaves()))
    # Appends the cache did not see (as from another process) are read on the next use.
    with transaction.atomic():
        record_many(_view(i) for i in range(3, 11))
    leaves = _stored_leaves()
    assert tree.root() == (11, root_from_leaf_hashes(leaves))
    assert tree.root(5) == (5, root_from_leaf_hashes(leaves[:5]))


@pytest.mark.scaled
def test_cached_tree_starts_again_after_a_rollback_it_saw(db: None) -> None:
    with transaction.atomic():
        record_many(_view(i) for i in range(2))
    with pytest.raises(RuntimeError), transaction.atomic():
        record_many(_view(i) for i in range(2, 6))
        assert tree.root()[0] == 6  # the cache now holds leaves that will vanish
        raise RuntimeError
    with transaction.atomic():
        record_many(
            Action("download", Actor("user", "carol"), Subject(SHA), f"other {i}") for i in range(5)
        )
    assert tree.root() == (7, root_from_leaf_hashes(_stored_leaves()))


@pytest.mark.scaled
def test_inclusion_and_consistency_proofs_verify(db: None) -> None:
    with transaction.atomic():
        record_many(_view(i) for i in range(13))
    leaves = _stored_leaves()
    for size in (1, 2, 7, 8, 13):
        _, root = tree.root(size)
        for index in range(size):
            got_size, leaf, proof, got_root = tree.inclusion(index, size)
            assert (got_size, leaf, got_root) == (size, leaves[index], root)
            assert verify_inclusion(leaf, index, size, proof, root)
        for old in range(size + 1):
            o, n, old_root, new_root, proof = tree.consistency(old, size)
            assert (o, n, old_root) == (old, size, tree.root(old)[1])
            assert verify_consistency(old, size, old_root, new_root, proof)
    assert tree.inclusion(3)[0] == 13  # size defaults to the whole log


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: tree.inclusion(3, 3), "entry 3 is not in a tree of size 3"),
        (lambda: tree.inclusion(0, 4), r"tree size 4 is outside 0..3"),
        (lambda: tree.consistency(3, 2), "from size 3 to size 2"),
        (lambda: tree.root(9), r"outside 0..3"),
    ],
)
def test_proofs_outside_the_log_are_refused(db: None, call, message: str) -> None:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        record_many(_view(i) for i in range(3))
    with pytest.raises(ProofError, match=message):
        call()


@pytest.mark.scaled
def test_a_gap_in_the_log_is_reported_not_proved_over(db: None) -> None:
    with transaction.atomic():
        record_many(_view(i) for i in range(4))
    tree.LOG_TREE.reset()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER custody_no_delete")
        else:
            cursor.execute("DROP TRIGGER custody_no_change ON custody_custodyentry")
        cursor.execute('DELETE FROM custody_custodyentry WHERE "index" = 1')
    with pytest.raises(CustodyError, match="no entry 1; run `overt verify`"):
        tree.root()


# --- checkpoints and the key -------------------------------------------------------------------


@pytest.mark.scaled
def test_checkpoint_signs_the_current_root_once_per_size(db: None) -> None:
    empty = issue_checkpoint()
    assert (empty.size, empty.root) == (0, EMPTY_ROOT.hex())
    with transaction.atomic():
        record_many(_view(i) for i in range(6))
    cp = issue_checkpoint()
    assert issue_checkpoint().pk == cp.pk  # nothing new: the same checkpoint
    assert latest_checkpoint() == cp
    parsed = tlog.verify(cp.note, verifier(), origin=origin())
    assert parsed.size == 6 and parsed.root_hash == root_from_leaf_hashes(_stored_leaves())
    assert cp.root == parsed.root_hash.hex()
    assert cp.note.startswith(f"{origin()}\n6\n")


def test_signing_key_lives_outside_the_database_and_private() -> None:
    ensure_signing_key()
    path = key_path()
    assert path.parent.name == "keys" and path.name == "custody-signer.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text().startswith(f"PRIVATE+KEY+{origin()}+")
    assert re.fullmatch(r"overt\.[0-9a-f]{16}/custody", origin())
    assert ensure_signing_key() is False  # made once; never replaced


@pytest.mark.parametrize("target", ["file", "folder"])
def test_signing_is_refused_when_the_key_is_not_private(db: None, target: str) -> None:
    ensure_signing_key()
    path = key_path() if target == "file" else key_path().parent
    before = stat.S_IMODE(path.stat().st_mode)
    os.chmod(path, before | 0o044)
    try:
        with pytest.raises(SigningKeyError, match=rf"mode 0[67][45][45].*chmod {before:o} "):
            issue_checkpoint()
        assert not Checkpoint.objects.exists()
        assert origin()  # the public half can still be read and published
    finally:
        os.chmod(path, before)
    assert issue_checkpoint().size == 0


def test_a_new_instance_gets_its_own_key(settings_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mine = origin()
    settings_env(home=tmp_path / "other")
    assert ensure_signing_key() is True
    assert stat.S_IMODE((tmp_path / "other" / "keys").stat().st_mode) == 0o700
    other = load_signing_key()
    assert other.name == origin() != mine
