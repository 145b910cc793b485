"""Tampering with evidence or its custody record is caught by `overt verify`, which names
the exact place.

Two ways in. The first half drives the real `overt` command against an instance of its own
(embedded SQLite and local store), tampering with its files and its database directly,
as someone with access to the server could. The second half does the log tampering with
raw SQL through the test database connection, so it runs on PostgreSQL too (scaled run);
there the changes roll back with the test.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from overt.custody import checkpoint as tlog
from support_cli import run_overt


def _verify(home: Path) -> dict:
    done = run_overt(home, "verify", "--json")
    assert done.returncode in (0, 1), done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] == (done.returncode == 0)
    return result


def _problems(result: dict) -> set[tuple[str, str]]:
    return {(p["kind"], p["where"]) for p in result["problems"]}


@pytest.fixture(scope="module")
def base_instance(tmp_path_factory: pytest.TempPathFactory, clips: dict[str, Path]) -> Path:
    """An instance with an officer and a device (one entry each), one ingested clip, its four
    derivatives, its transcript (a derivative-create by the transcripts job, which runs
    for every playable original) and a checkpoint at 8."""
    home = tmp_path_factory.mktemp("tamper") / "instance"
    for args in (
        ("officer", "add", "MP100", "--name", "PC Test"),
        ("device", "add", "CAM-1", "--model", "Test Cam"),
        ("ingest", str(clips["good"]), "--officer", "MP100", "--device", "CAM-1"),
        ("worker", "--burst"),
        ("custody", "checkpoint"),
    ):
        done = run_overt(home, *args)
        assert done.returncode == 0, (args, done.stderr)
    assert "\n8\n" in run_overt(home, "custody", "checkpoint").stdout
    return home


@pytest.fixture
def instance(base_instance: Path, tmp_path: Path) -> Path:
    home = tmp_path / "instance"
    shutil.copytree(base_instance, home, symlinks=True)
    return home


def _db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "overt.sqlite3", isolation_level=None)


def _drop_triggers(db: sqlite3.Connection, table: str) -> None:
    """What someone with the database file can do: remove the append-only guard."""
    names = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
    ).fetchall()
    assert names, f"{table} should have append-only triggers"
    for (name,) in names:
        db.execute(f'DROP TRIGGER "{name}"')


def _flip_byte(path: Path, offset: int | None = None) -> None:
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    offset = len(data) // 2 if offset is None else offset
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _object_path(home: Path, sha256: str) -> Path:
    return home / "store" / "objects" / sha256[:2] / sha256[2:4] / sha256


def test_untouched_instance_verifies(instance: Path) -> None:
    result = _verify(instance)
    assert result == {"ok": True, "problems": [], "summary": result["summary"]}
    assert result["summary"]["originals"] == 1 and result["summary"]["derivatives"] == 5  # four media, one transcript


def test_byte_flipped_in_a_stored_original(instance: Path) -> None:
    with _db(instance) as db:
        pk, sha = db.execute("SELECT id, sha256 FROM evidence_original").fetchone()
    path = _object_path(instance, sha)
    _flip_byte(path)
    result = _verify(instance)
    assert not result["ok"]
    assert _problems(result) == {("object-hash-mismatch", f"original {pk} at {path}")}


def test_byte_flipped_in_a_derivative(instance: Path) -> None:
    with _db(instance) as db:
        pk, kind, sha, original = db.execute(
            "SELECT id, kind, sha256, original_id FROM evidence_derivative WHERE kind = 'poster'"
        ).fetchone()
    path = _object_path(instance, sha)
    _flip_byte(path, 100)
    result = _verify(instance)
    assert _problems(result) == {
        ("object-hash-mismatch", f"derivative {pk} ({kind} of original {original}) at {path}")
    }


def test_byte_flipped_in_a_log_entry(instance: Path) -> None:
    db = _db(instance)
    _drop_triggers(db, "custody_custodyentry")
    (text,) = db.execute('SELECT entry FROM custody_custodyentry WHERE "index" = 4').fetchone()
    at = text.index('"time":"') + len('"time":"') + 3  # a digit of the year
    changed = text[:at] + chr(ord(text[at]) ^ 0x01) + text[at + 1 :]
    assert len(changed.encode()) == len(text.encode()) and changed != text
    db.execute('UPDATE custody_custodyentry SET entry = ? WHERE "index" = 4', (changed,))
    db.close()
    result = _verify(instance)
    assert _problems(result) == {
        ("entry-hash-mismatch", "entry 4"),
        ("checkpoint-root-mismatch", "checkpoint at size 8"),
    }


def test_log_row_deleted(instance: Path) -> None:
    db = _db(instance)
    _drop_triggers(db, "custody_custodyentry")
    db.execute('DELETE FROM custody_custodyentry WHERE "index" = 5')
    db.close()
    result = _verify(instance)
    assert _problems(result) == {
        ("entry-missing", "entry 5"),
        ("entry-chain-broken", "entry 6"),  # the next entry about the same original
        ("entry-chain-broken", "entry 7"),  # and the transcript's, after it
        ("checkpoint-root-mismatch", "checkpoint at size 8"),
    }


def test_two_entries_swapped(instance: Path) -> None:
    db = _db(instance)
    _drop_triggers(db, "custody_custodyentry")
    columns = "recorded_at, action, actor, object_sha256, entry, leaf_hash"
    one = db.execute(f'SELECT {columns} FROM custody_custodyentry WHERE "index" = 3').fetchone()
    two = db.execute(f'SELECT {columns} FROM custody_custodyentry WHERE "index" = 4').fetchone()
    assignments = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
    db.execute(f'UPDATE custody_custodyentry SET {assignments} WHERE "index" = 3', two)
    db.execute(f'UPDATE custody_custodyentry SET {assignments} WHERE "index" = 4', one)
    db.close()
    result = _verify(instance)
    assert _problems(result) == {
        ("entry-out-of-place", "entry 3"),
        ("entry-out-of-place", "entry 4"),
        ("entry-chain-broken", "entry 3"),
        ("entry-chain-broken", "entry 4"),
        ("checkpoint-root-mismatch", "checkpoint at size 8"),
    }


def _forged(note: str) -> str:
    """The same checkpoint, signed by a key of the same name that is not the instance's."""
    body = tlog.parse(note[: note.rfind("\n\n") + 1])
    return tlog.sign(body, body.origin, Ed25519PrivateKey.generate())


def test_checkpoint_replaced_by_one_signed_with_another_key(instance: Path) -> None:
    db = _db(instance)
    _drop_triggers(db, "custody_checkpoint")
    (note,) = db.execute("SELECT note FROM custody_checkpoint WHERE size = 8").fetchone()
    db.execute("UPDATE custody_checkpoint SET note = ? WHERE size = 8", (_forged(note),))
    db.close()
    result = _verify(instance)
    assert _problems(result) == {("checkpoint-signature", "checkpoint at size 8")}
    assert "not signed by this instance's key" in result["problems"][0]["detail"]


def test_log_truncated(instance: Path) -> None:
    db = _db(instance)
    _drop_triggers(db, "custody_custodyentry")
    _drop_triggers(db, "custody_custodyhead")
    db.execute('DELETE FROM custody_custodyentry WHERE "index" >= 5')
    db.execute("UPDATE custody_custodyhead SET size = 5")
    db.close()
    result = _verify(instance)
    assert _problems(result) == {("log-truncated", "checkpoint at size 8")}
    assert "ends after 5" in result["problems"][0]["detail"]


def test_verify_prints_problems_and_exits_non_zero(instance: Path) -> None:
    with _db(instance) as db:
        (sha,) = db.execute("SELECT sha256 FROM evidence_original").fetchone()
    path = _object_path(instance, sha)
    path.chmod(0o600)
    path.unlink()
    done = run_overt(instance, "verify")
    assert done.returncode == 1
    assert f"PROBLEM object-missing: original 1 at {path}" in done.stdout
    assert "FAILED: 1 problem(s)" in done.stdout


# --- the same log tampering through the app's own database connection (SQLite or PostgreSQL) --


def _drop_all_triggers(table: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER "{name}"')
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER "{name}" ON {table}')


def _sql(statement: str, params: list | None = None) -> list:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else []


def _flip_entry(index: int) -> None:
    [(text,)] = _sql('SELECT entry FROM custody_custodyentry WHERE "index" = %s', [index])
    at = text.index('"time":"') + len('"time":"') + 3
    changed = text[:at] + chr(ord(text[at]) ^ 0x01) + text[at + 1 :]
    _sql('UPDATE custody_custodyentry SET entry = %s WHERE "index" = %s', [changed, index])


def _swap_entries(a: int, b: int) -> None:
    columns = ["recorded_at", "action", "actor", "object_sha256", "entry", "leaf_hash"]
    select = f'SELECT {", ".join(columns)} FROM custody_custodyentry WHERE "index" = %s'
    [row_a], [row_b] = _sql(select, [a]), _sql(select, [b])
    update = "UPDATE custody_custodyentry SET {} WHERE \"index\" = %s".format(
        ", ".join(f"{c} = %s" for c in columns)
    )
    _sql(update, [*row_b, a])
    _sql(update, [*row_a, b])


def _forge_checkpoint(size: int) -> None:
    [(note,)] = _sql("SELECT note FROM custody_checkpoint WHERE size = %s", [size])
    _sql("UPDATE custody_checkpoint SET note = %s WHERE size = %s", [_forged(note), size])


def _truncate(keep: int) -> None:
    _sql('DELETE FROM custody_custodyentry WHERE "index" >= %s', [keep])
    _sql("UPDATE custody_custodyhead SET size = %s", [keep])


TAMPERS: dict[str, tuple[tuple[str, ...], Callable[[], None], set[tuple[str, str]]]] = {
    "byte flipped in an entry": (
        ("custody_custodyentry",),
        lambda: _flip_entry(4),
        {("entry-hash-mismatch", "entry 4"), ("checkpoint-root-mismatch", "checkpoint at size 8")},
    ),
    "row deleted": (
        ("custody_custodyentry",),
        lambda: _sql('DELETE FROM custody_custodyentry WHERE "index" = 6'),
        {
            ("entry-missing", "entry 6"),
            ("entry-chain-broken", "entry 7"),
            ("checkpoint-root-mismatch", "checkpoint at size 8"),
        },
    ),
    "entries swapped": (
        ("custody_custodyentry",),
        lambda: _swap_entries(2, 5),
        {
            ("entry-out-of-place", "entry 2"),
            ("entry-out-of-place", "entry 5"),
            ("entry-chain-broken", "entry 2"),
            ("entry-chain-broken", "entry 5"),
            ("checkpoint-root-mismatch", "checkpoint at size 8"),
        },
    ),
    "checkpoint forged": (
        ("custody_checkpoint",),
        lambda: _forge_checkpoint(8),
        {("checkpoint-signature", "checkpoint at size 8")},
    ),
    "log truncated": (
        ("custody_custodyentry", "custody_custodyhead"),
        lambda: _truncate(7),
        {("log-truncated", "checkpoint at size 8")},
    ),
}


@pytest.mark.scaled
@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_log_tampering_through_the_database_is_named(db: None, name: str) -> None:
    from django.db import transaction

    from overt.custody.checkpoints import issue_checkpoint
    from overt.custody.services import Actor, Subject, record
    from overt.custody.verify import run_checks

    with transaction.atomic():
        for i in range(8):
            record("view", Actor("user", "auditor"), Subject("ab" * 32), justification=f"look {i}")
    issue_checkpoint()
    assert run_checks(log_only=True).ok

    tables, tamper, expected = TAMPERS[name]
    for table in tables:
        _drop_all_triggers(table)
    tamper()
    result = run_checks(log_only=True)
    assert {(p.kind, p.where) for p in result.problems} == expected
