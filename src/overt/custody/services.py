"""Writing to the custody log. Every service that acts on evidence calls `record()`
inside the same database transaction as the action itself."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from .actions import ACTIONS
from .canonical import canonical_json, check_canonical
from .errors import CustodyError
from .merkle import leaf_hash
from .models import CustodyEntry, CustodyHead

# Version 2 adds `chain` (each object's entries form a numbered, back-linked list) and, on
# the entries that seal a custody report, `seal`. Version 1 entries stay as written.
ENTRY_VERSION = 2


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: kind is 'user', 'device' or 'system'."""

    kind: str
    id: str

    def __post_init__(self) -> None:
        if self.kind not in {"user", "device", "system"}:
            raise ValueError(f"unknown actor kind {self.kind!r}")

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def system(cls, component: str = "overt") -> Actor:
        return cls("system", component)


@dataclass(frozen=True, slots=True)
class Subject:
    """What was acted on: an original's hash plus catalogue ids that help a reader."""

    sha256: str = ""
    ids: dict[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Client:
    address: str = ""
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    """One action to record with `record_many`; the fields mirror `record()`'s arguments."""

    action: str
    actor: Actor
    subject: Subject | None = None
    justification: str = ""
    client: Client | None = None
    details: dict[str, Any] | None = None
    at: datetime | None = None


def record(
    action: str,
    actor: Actor,
    subject: Subject | None = None,
    *,
    justification: str = "",
    client: Client | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CustodyEntry:
    """Append one entry. Must run inside the transaction of the action it records."""
    item = Action(action, actor, subject, justification, client, details, at)
    _check(item)
    _require_transaction()
    with connection.cursor() as cursor:
        index = _reserve(cursor, 1)
        heads = _chain_heads(cursor, {item.subject.sha256} if item.subject else set())
        entry = _build(item, index, heads)
        cursor.execute(_INSERT + " RETURNING id", _row(entry))
        (entry.pk,) = cursor.fetchone()
    return _saved(entry)


def record_many(items: Iterable[Action], *, seal: bool = False) -> list[CustodyEntry]:
    """Append several entries at once (a group commit), in the caller's transaction.

    For a batch of actions that commit together, such as a bulk import: the head is locked
    once and the rows go in with one multi-row insert. All or none of them commit, with the
    actions they record.

    ``seal``: these entries close a custody report. Each gets ``"seal": {"tree_size": N,
    "objects": [...]}`` where N is the log size just after the batch and the objects are
    the batch's: the caller must sign the checkpoint at N before the transaction ends (the
    head stays locked until then), so each is its object's last entry at N.
    """
    items = list(items)
    for item in items:
        _check(item)
    _require_transaction()
    if not items:
        return []
    with connection.cursor() as cursor:
        first = _reserve(cursor, len(items))
        heads = _chain_heads(cursor, {i.subject.sha256 for i in items if i.subject})
        sealed = None
        if seal:
            objects = sorted({i.subject.sha256 for i in items if i.subject} - {""})
            sealed = {"tree_size": first + len(items), "objects": objects}
        entries = [_build(item, first + i, heads, sealed) for i, item in enumerate(items)]
        cursor.executemany(_INSERT, [_row(e) for e in entries])
        cursor.execute(
            'SELECT id FROM custody_custodyentry WHERE "index" >= %s AND "index" < %s '
            'ORDER BY "index"',
            [first, first + len(entries)],
        )
        for entry, (pk,) in zip(entries, cursor.fetchall(), strict=True):
            entry.pk = pk
            _saved(entry)
    return entries


# Appends use plain SQL: the ORM's per-row overhead would otherwise dominate (see
# bench/custody.py). The statements are the same on SQLite (3.35+) and PostgreSQL.
_INSERT = (
    'INSERT INTO custody_custodyentry ("index", recorded_at, action, actor, object_sha256, '
    "entry, leaf_hash) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_ADVANCE = "UPDATE custody_custodyhead SET size = size + %s WHERE id = 1 RETURNING size"


def _reserve(cursor: Any, count: int) -> int:
    """Advance the head by ``count``; return the first reserved index.

    The UPDATE locks the head row until the transaction ends (on SQLite the whole database
    is locked for writing already), so concurrent appenders queue and indices stay gapless.
    """
    cursor.execute(_ADVANCE, [count])
    row = cursor.fetchone()
    if row is None:  # the very first entry of this instance
        CustodyHead.objects.get_or_create(pk=1)
        cursor.execute(_ADVANCE, [count])
        row = cursor.fetchone()
    return int(row[0]) - count


def _row(entry: CustodyEntry) -> list[Any]:
    return [
        entry.index,
        connection.ops.adapt_datetimefield_value(entry.recorded_at),
        entry.action,
        entry.actor,
        entry.object_sha256,
        entry.entry,
        entry.leaf_hash,
    ]


def _saved(entry: CustodyEntry) -> CustodyEntry:
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


def _check(item: Action) -> None:
    if item.action not in ACTIONS:
        raise CustodyError(f"unknown custody action {item.action!r}")


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise CustodyError("custody entries must be written inside the action's transaction")


# The latest entry about an object; the (object_sha256, index) index answers it directly.
_LATEST = (
    'SELECT "index", entry FROM custody_custodyentry WHERE object_sha256 = %s '
    'ORDER BY "index" DESC LIMIT 1'
)
_COUNT = "SELECT COUNT(*) FROM custody_custodyentry WHERE object_sha256 = %s"


def _chain_heads(cursor: Any, shas: set[str]) -> dict[str, tuple[int, int | None]]:
    """For each object: (the number its next entry gets, the leaf index of its latest).

    Runs with the head locked (after `_reserve`), so no other append can interleave.
    Objects whose history predates version 2 are counted once, then numbered onwards.
    """
    heads: dict[str, tuple[int, int | None]] = {}
    for sha in shas - {""}:
        cursor.execute(_LATEST, [sha])
        row = cursor.fetchone()
        if row is None:
            heads[sha] = (0, None)
            continue
        latest, text = int(row[0]), row[1]
        try:
            chain = json.loads(text).get("chain")
        except (ValueError, AttributeError):
            chain = None
        if isinstance(chain, dict) and isinstance(chain.get("n"), int):
            heads[sha] = (chain["n"] + 1, latest)
        else:
            cursor.execute(_COUNT, [sha])
            heads[sha] = (int(cursor.fetchone()[0]), latest)
    return heads


def _build(
    item: Action,
    index: int,
    heads: dict[str, tuple[int, int | None]],
    seal: dict[str, Any] | None = None,
) -> CustodyEntry:
    subject = item.subject or Subject()
    client = item.client or Client()
    ids, details = dict(subject.ids), item.details or {}
    check_canonical(ids)  # the free-form parts; the rest is built here from strings
    check_canonical(details)
    recorded_at = (item.at or datetime.now(UTC)).astimezone(UTC)
    chain = None
    if subject.sha256:
        number, previous = heads[subject.sha256]
        chain = {"n": number, "prev": previous}
        heads[subject.sha256] = (number + 1, index)
    body: dict[str, Any] = {
        "v": ENTRY_VERSION,
        "seq": index,
        "time": recorded_at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "action": item.action,
        "actor": {"kind": item.actor.kind, "id": item.actor.id},
        "object": {"sha256": subject.sha256, "ids": ids},
        "chain": chain,
        "justification": item.justification,
        "client": {"address": client.address, "user_agent": client.user_agent},
        "details": details,
    }
    if seal is not None and subject.sha256:
        body["seal"] = seal
    data = canonical_json(body, validate=False)
    return CustodyEntry(
        index=index,
        recorded_at=recorded_at,
        action=item.action,
        actor=str(item.actor),
        object_sha256=subject.sha256,
        entry=data.decode("utf-8"),
        leaf_hash=leaf_hash(data).hex(),
    )


def entries_for(sha256: str) -> list[CustodyEntry]:
    return list(CustodyEntry.objects.filter(object_sha256=sha256).order_by("index"))


@transaction.atomic
def record_now(
    action: str, actor: Actor, subject: Subject | None = None, **kw: Any
) -> CustodyEntry:
    """For actions with no transaction of their own (a login, a verify run)."""
    return record(action, actor, subject, **kw)
