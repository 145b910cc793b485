"""`overt verify`: check the evidence store, the custody log and every signed checkpoint.
(Longer than 400 lines because the checks are one pass that builds one report: each reads
what the one before rebuilt, so they are read and reviewed as one procedure.)

Nothing here trusts a cached or derived value. The checks:

1. Objects (skipped with ``log_only``): every Original and Derivative in the catalogue is
   re-read from the store and hashed again; a missing object, a size or hash that differs
   from the catalogue, is a problem naming the catalogue row and the store path.
2. The log: entries are read in index order. Indices must run 0, 1, 2, ... with no gap;
   each stored leaf hash must equal SHA-256(0x00 || entry); each entry's own ``seq`` must
   equal its position (this catches entries swapped or moved); each entry must be in
   canonical form and agree with the columns used to search it; the head must count them.
   The Merkle tree is rebuilt from the entry texts themselves, not from stored hashes.
   Each object's entries (version 2) must be numbered 0, 1, 2, ... each naming the one
   before; the head row must be a plain count that agrees with the entries.
3. Checkpoints: each stored checkpoint's signature must verify with the instance key (and
   its origin be the instance's), the rebuilt tree's root at its size must equal the
   signed root, and each must be consistent with the one before (an RFC 9162 proof from
   the stored leaf hashes). A checkpoint larger than the log means the log was truncated;
   a report's seal naming a size with no stored checkpoint means one was removed.
4. Objects in the store that no original or derivative references are listed.

Every problem has a ``kind`` (below), a ``where`` (``original 3 at /path``, ``entry 17``,
``checkpoint at size 40``) and a ``detail`` in plain words.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError, connection, transaction

from overt.evidence.models import Derivative, Original
from overt.evidence.store import EvidenceStore, StoreError, get_store

from . import checkpoint as tlog
from .canonical import entry_is_canonical
from .integrity import (
    HEAD_WHERE,
    check_head_covers_entries,
    check_successive,
    check_uncatalogued,
    read_head,
)
from .keys import verifier
from .merkle import EMPTY_ROOT, MerkleAccumulator
from .models import Checkpoint, VerifyRun
from .note import InvalidSignatureError, NoteError, UnverifiedNoteError
from .services import Actor, record
from .tree import FETCH_ROWS

# Problem kinds; docs/custody.md explains each to a reader.
PROBLEM_KINDS = {
    "object-missing": "a catalogued original or derivative is not in the store",
    "object-size-mismatch": "the stored object's size differs from the catalogue",
    "object-hash-mismatch": "the stored object's bytes no longer hash to its SHA-256",
    "object-unreadable": "the store could not read the object",
    "object-uncatalogued": "an object in the store that no original or derivative references",
    "entry-missing": "a leaf index has no entry (a row was removed)",
    "entry-hash-mismatch": "an entry's text no longer hashes to its stored leaf hash",
    "entry-unreadable": "an entry's text is not valid JSON",
    "entry-out-of-place": "an entry's own sequence number differs from its position",
    "entry-not-canonical": "an entry's text is not in canonical form",
    "entry-columns-mismatch": "an entry's search columns disagree with its text",
    "entry-chain-broken": "an object's entries do not follow on (number, previous entry)",
    "log-head-altered": "the log head row is missing, not a count, or counts too few",
    "checkpoint-signature": "a checkpoint is not validly signed by this instance's key",
    "checkpoint-malformed": "a stored checkpoint cannot be read",
    "checkpoint-record-mismatch": "a checkpoint's stored size or root differs from its signed text",
    "checkpoint-root-mismatch": "the log's entries do not add up to a signed root",
    "log-truncated": "a signed checkpoint covers more entries than the log now has",
    "checkpoint-missing": "a report was sealed at a size whose checkpoint is not stored",
    "checkpoint-inconsistent": "a checkpoint is not a prefix of the next one",
}


@dataclass(frozen=True)
class Problem:
    kind: str
    where: str
    detail: str


@dataclass
class VerifyResult:
    log_only: bool
    problems: list[Problem] = field(default_factory=list)
    entries: int = 0
    positions: int = 0  # the last entry's index + 1: the log's length, gaps included
    checkpoints: int = 0
    originals: int = 0
    derivatives: int = 0
    root: str = EMPTY_ROOT.hex()
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, where: str, detail: str) -> None:
        self.problems.append(Problem(kind, where, detail))

    def summary(self) -> dict[str, Any]:
        return {
            "log_only": self.log_only,
            "entries": self.entries,
            "root": self.root,
            "checkpoints": self.checkpoints,
            "originals": self.originals,
            "derivatives": self.derivatives,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": [asdict(p) for p in self.problems],
            "summary": self.summary(),
        }


def run_checks(*, log_only: bool = False, store: EvidenceStore | None = None) -> VerifyResult:
    """Run every check and return what was found; records nothing."""
    result = VerifyResult(log_only=log_only)
    if not log_only:
        _check_objects(result, store or get_store())
    # Order matters while others append: checkpoints first, then the head, then the entries
    # below the head. Every checkpoint read is then within the head, and every entry below
    # the head was committed with it; later appends are simply not looked at.
    signed = _read_checkpoints(result)
    head = read_head(result)
    seals: dict[int, int] = {}
    roots = _check_log(result, {size for size, _ in signed.values()}, head, seals)
    check_head_covers_entries(result)
    _check_checkpoints(result, signed, roots)
    check_successive(result, signed)
    stored = {size for size, _ in signed.values()}
    for size, index in sorted(seals.items()):
        if size not in stored:
            result.add(
                "checkpoint-missing",
                f"checkpoint at size {size}",
                f"entry {index} sealed a custody report at this size, but no valid checkpoint "
                "of it is stored: a checkpoint row was removed or replaced",
            )
    result.finished_at = datetime.now(UTC)
    return result


def _log_verify_run(result: VerifyResult, actor: Actor, details: dict[str, Any]) -> int | None:
    """Append the run's own `verify` entry; None when the log cannot take one."""
    if any(p.kind == "log-head-altered" for p in result.problems):
        return None  # appending at a wrong head would collide with, or skip, entries
    try:
        with transaction.atomic():
            return record("verify", actor, details=details).index
    except DatabaseError as exc:
        result.add("log-head-altered", HEAD_WHERE, f"the run could not be logged: {exc}")
        return None


def verify_instance(
    *, log_only: bool = False, trigger: str = VerifyRun.Trigger.CLI, actor: Actor | None = None
) -> tuple[VerifyResult, VerifyRun]:
    """Run the checks, keep the outcome as a VerifyRun and log one `verify` entry for it."""
    result = run_checks(log_only=log_only)
    kinds = sorted({p.kind for p in result.problems})
    with transaction.atomic():
        run = VerifyRun.objects.create(
            trigger=trigger,
            log_only=log_only,
            started_at=result.started_at,
            finished_at=result.finished_at or datetime.now(UTC),
            ok=result.ok,
            entries=result.entries,
            checkpoints=result.checkpoints,
            objects_checked=result.originals + result.derivatives,
            problems=[],
        )
        run.entry_index = _log_verify_run(
            result,
            actor or Actor.system(f"verify-{trigger}"),
            {
                "ok": result.ok,
                "problems": len(result.problems),
                "problem_kinds": kinds,
                "log_only": log_only,
                "entries_checked": result.entries,
                "root": result.root,
                "checkpoints_checked": result.checkpoints,
                "objects_checked": result.originals + result.derivatives,
                "run": run.pk,
            },
        )
        run.ok = result.ok
        run.problems = [asdict(p) for p in result.problems[:1000]]
        run.save(update_fields=["entry_index", "ok", "problems"])
    return result, run


# --- objects -------------------------------------------------------------------------------


def _check_objects(result: VerifyResult, store: EvidenceStore) -> None:
    try:
        in_store = list(store.iter_hashes())
    except (StoreError, OSError) as exc:
        result.add("object-unreadable", "the evidence store", f"could not list it: {exc}")
        in_store = []
    for row in Original.objects.order_by("pk").values("pk", "sha256", "size").iterator():
        result.originals += 1
        _check_object(result, store, f"original {row['pk']}", row["sha256"], row["size"])
    rows = Derivative.objects.order_by("pk").values("pk", "sha256", "size", "kind", "original_id")
    for row in rows.iterator():
        result.derivatives += 1
        label = f"derivative {row['pk']} ({row['kind']} of original {row['original_id']})"
        _check_object(result, store, label, row["sha256"], row["size"])
    check_uncatalogued(result, store, in_store)


def _check_object(
    result: VerifyResult, store: EvidenceStore, label: str, sha256: str, size: int
) -> None:
    try:
        location = store.location(sha256)
    except ValueError:
        detail = f"the catalogue's SHA-256 {sha256!r} is malformed"
        result.add("object-hash-mismatch", label, detail)
        return
    where = f"{label} at {location}"
    try:
        if not store.exists(sha256):
            result.add("object-missing", where, f"no object {sha256} in the evidence store")
            return
        stored_size = store.size(sha256)
        actual = store.rehash(sha256)
    except (StoreError, OSError) as exc:
        result.add("object-unreadable", where, f"could not read the object: {exc}")
        return
    if stored_size != size:
        result.add(
            "object-size-mismatch",
            where,
            f"the catalogue says {size} bytes but the store holds {stored_size}",
        )
    if actual != sha256:
        result.add(
            "object-hash-mismatch",
            where,
            f"the catalogue says SHA-256 {sha256} but the stored bytes hash to {actual}",
        )


# --- the log ---------------------------------------------------------------------------------


def _check_chain(
    result: VerifyResult, where: str, chain: object, count: int, previous: int | None
) -> None:
    if not isinstance(chain, dict) or (chain.get("n"), chain.get("prev")) != (count, previous):
        said = (chain.get("n"), chain.get("prev")) if isinstance(chain, dict) else None
        result.add(
            "entry-chain-broken",
            where,
            f"it says it is its object's entry (number, previous) {said} but the log holds "
            f"({count}, {previous}): an entry about the same object was removed or moved",
        )


def _rows(head: int | None) -> Iterator[tuple[int, str, str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT "index", action, object_sha256, entry, leaf_hash '
            'FROM custody_custodyentry WHERE "index" < %s ORDER BY "index"',
            [2**63 - 1 if head is None else head],
        )
        while True:
            rows = cursor.fetchmany(FETCH_ROWS)
            if not rows:
                return
            yield from rows


def _missing(result: VerifyResult, start: int, end: int, why: str) -> None:
    where = f"entry {start}" if end - start == 1 else f"entries {start} to {end - 1}"
    result.add("entry-missing", where, why)


def _check_log(
    result: VerifyResult, sizes: set[int], head: int | None, seals: dict[int, int]
) -> dict[int, bytes]:
    """Rebuild the tree from the entry texts; return its root at each size in ``sizes``.

    ``seals`` collects {tree size: entry index} of the entries that sealed a report. With no
    usable head, every entry is read."""
    chains: dict[str, tuple[int, int]] = {}  # object -> (entries so far, last leaf index)
    roots: dict[int, bytes] = {0: EMPTY_ROOT}
    accumulator = MerkleAccumulator()
    append = accumulator.append
    sha256 = hashlib.sha256
    loads = json.loads
    add = result.add
    expected = 0
    count = 0
    for index, action, object_sha256, text, stored_hash in _rows(head):
        if object_sha256:
            count_so_far, last_index = chains.get(object_sha256, (0, None))
            chains[object_sha256] = (count_so_far + 1, index)
        if index != expected:
            _missing(result, expected, index, f"the log jumps from entry {expected - 1} to {index}")
        where = f"entry {index}"
        digest = sha256(b"\x00" + text.encode("utf-8")).digest()
        if stored_hash != digest.hex():
            add(
                "entry-hash-mismatch",
                where,
                f"the stored leaf hash is {stored_hash} but the entry's text hashes to "
                f"{digest.hex()}: the text or the hash was changed after it was written",
            )
        try:
            body = loads(text)
        except ValueError:
            add("entry-unreadable", where, "the entry's text is not valid JSON")
            body = None
        if isinstance(body, dict):
            seq = body.get("seq")
            if seq != index:
                add(
                    "entry-out-of-place",
                    where,
                    f"the entry says it is number {seq} but it is stored at position {index}: "
                    "entries were swapped, moved or renumbered",
                )
            if not entry_is_canonical(text):
                add("entry-not-canonical", where, "the entry's text is not in canonical form")
            obj = body.get("object")
            sha = obj.get("sha256") if isinstance(obj, dict) else None
            if body.get("action") != action or sha != object_sha256:
                add(
                    "entry-columns-mismatch",
                    where,
                    f"the row is filed under action {action!r} and object {object_sha256!r} "
                    f"but the entry says {body.get('action')!r} and {sha!r}",
                )
            if object_sha256 and body.get("v", 1) != 1:
                _check_chain(result, where, body.get("chain"), count_so_far, last_index)
            seal = body.get("seal")
            if isinstance(seal, dict) and isinstance(seal.get("tree_size"), int):
                seals.setdefault(seal["tree_size"], index)
        elif body is not None:
            add("entry-unreadable", where, "the entry's text is not a JSON object")
        append(digest)
        count += 1
        if count in sizes:
            roots[count] = accumulator.root()
        expected = index + 1
    result.entries = count
    result.positions = expected
    result.root = accumulator.root().hex()
    if head is not None and head > expected:
        _missing(
            result,
            expected,
            head,
            f"the log head counts {head} entries but the last is {expected - 1}",
        )
    return roots


# --- checkpoints -----------------------------------------------------------------------------


def _read_checkpoints(result: VerifyResult) -> dict[int, tuple[int, bytes]]:
    """Open every stored checkpoint with the instance key; {row id: (size, root)}."""
    key = verifier()
    signed: dict[int, tuple[int, bytes]] = {}
    for cp in Checkpoint.objects.order_by("size", "pk").iterator():
        result.checkpoints += 1
        where = f"checkpoint at size {cp.size}"
        try:
            parsed = tlog.verify(cp.note, key, origin=key.name)
        except UnverifiedNoteError as exc:
            names = ", ".join(f"{s.name}+{s.key_id:08x}" for s in exc.signatures) or "nobody"
            result.add(
                "checkpoint-signature",
                where,
                f"not signed by this instance's key {key.name}+{key.key_id:08x} "
                f"(signed by: {names})",
            )
            continue
        except InvalidSignatureError:
            result.add(
                "checkpoint-signature",
                where,
                "the signature by this instance's key does not match the checkpoint's text",
            )
            continue
        except NoteError as exc:
            result.add("checkpoint-malformed", where, str(exc))
            continue
        if parsed.size != cp.size or parsed.root_hash.hex() != cp.root:
            result.add(
                "checkpoint-record-mismatch",
                where,
                f"the row says size {cp.size}, root {cp.root}, but the signed text says size "
                f"{parsed.size}, root {parsed.root_hash.hex()}",
            )
        signed[cp.pk] = (parsed.size, parsed.root_hash)
    return signed


def _check_checkpoints(
    result: VerifyResult, signed: dict[int, tuple[int, bytes]], roots: dict[int, bytes]
) -> None:
    for size, root in sorted(signed.values()):
        where = f"checkpoint at size {size}"
        if size > result.positions:
            result.add(
                "log-truncated",
                where,
                f"the instance signed the log at {size} entries but it now ends after "
                f"{result.positions}: entries were removed from its end",
            )
        elif size not in roots:
            result.add(
                "checkpoint-root-mismatch",
                where,
                f"only {result.entries} of the first {size} entries remain, so the log no "
                f"longer matches the signed root {root.hex()}: entries were removed",
            )
        elif roots[size] != root:
            result.add(
                "checkpoint-root-mismatch",
                where,
                f"the first {size} entries now hash to root {roots[size].hex()} but the signed "
                f"root is {root.hex()}: an entry among them was changed, removed or reordered",
            )


