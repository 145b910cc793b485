"""The custody log's Merkle tree, read from the database and cached per process.

The stored leaf hashes, in index order, are loaded into a ``MerkleTree`` once; later calls
read only the rows appended since (by this process or any other). Before each use the cache
is checked against the database: if the last leaf it holds is no longer the stored one (a
transaction it saw was rolled back, or the database was swapped), it starts again.

Proofs and roots are answered for sizes up to the committed head size, so every process
gives the same answer for the same size. ``overt verify`` does not use this cache: it
recomputes everything from the entries themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

from .errors import CustodyError, ProofError
from .merkle import MerkleTree

T = TypeVar("T")
FETCH_ROWS = 20_000


def head_size() -> int:
    """The log size as the database has it now (committed, or this transaction's own)."""
    with connection.cursor() as cursor:
        cursor.execute(_HEAD)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


_HEAD = "SELECT size FROM custody_custodyhead WHERE id = 1"
# One round trip for what each use needs: the head size, and the stored leaf hash that the
# cache's last leaf must still equal.
_HEAD_AND_LEAF = (
    "SELECT (SELECT size FROM custody_custodyhead WHERE id = 1), "
    '(SELECT leaf_hash FROM custody_custodyentry WHERE "index" = %s)'
)


def _decode(index: int, hex_hash: str) -> bytes:
    try:
        value = bytes.fromhex(hex_hash)
    except (TypeError, ValueError):
        value = b""
    if len(value) != 32:
        raise CustodyError(f"entry {index} has a malformed leaf hash; run `overt verify`")
    return value


class LogTree:
    """A process-wide, thread-safe cache of the log's tree."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tree = MerkleTree()
        self._database: tuple[str, str] | None = None

    def _head_and_check(self) -> int:
        """Read the head size; drop the cache if its last leaf is no longer the stored one
        (a transaction it saw was rolled back) or the database is another one."""
        database = (connection.alias, str(connection.settings_dict.get("NAME")))
        if self._database != database:
            self._tree = MerkleTree()
            self._database = database
        tree = self._tree
        last = len(tree) - 1
        with connection.cursor() as cursor:
            cursor.execute(_HEAD_AND_LEAF, [max(last, 0)])
            size, stored = cursor.fetchone()
        if last >= 0 and (stored is None or _decode(last, stored) != tree.leaf_hash(last)):
            self._tree = MerkleTree()
        return int(size or 0)

    @staticmethod
    def _load(tree: MerkleTree, start: int, end: int) -> None:
        expected = start
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT "index", leaf_hash FROM custody_custodyentry '
                'WHERE "index" >= %s AND "index" < %s ORDER BY "index"',
                [start, end],
            )
            while True:
                rows = cursor.fetchmany(FETCH_ROWS)
                if not rows:
                    break
                hashes = []
                for index, hex_hash in rows:
                    if index != expected:
                        raise CustodyError(
                            f"the custody log has no entry {expected}; run `overt verify`"
                        )
                    hashes.append(_decode(index, hex_hash))
                    expected += 1
                tree.extend(hashes)
        if expected != end:
            raise CustodyError(f"the custody log has no entry {expected}; run `overt verify`")

    def use(self, size: int | None, work: Callable[[int, MerkleTree], T]) -> T:
        """Run ``work(size, tree)`` with a tree holding at least ``size`` leaves.

        ``size`` None means the whole log; a size beyond the log is a ``ProofError``.
        """
        with self._lock:
            current = self._head_and_check()
            if size is None:
                size = current
            elif not 0 <= size <= current:
                raise ProofError(
                    f"tree size {size} is outside 0..{current} (the log has {current} entries)"
                )
            tree = self._tree
            if len(tree) < size:
                self._load(tree, len(tree), size)
            return work(size, tree)

    def reset(self) -> None:
        with self._lock:
            self._tree = MerkleTree()
            self._database = None


LOG_TREE = LogTree()


def root(size: int | None = None) -> tuple[int, bytes]:
    """(size, root hash) of the log at ``size`` entries (default: all committed entries)."""
    return LOG_TREE.use(size, lambda n, tree: (n, tree.root(n)))


def inclusion(index: int, size: int | None = None) -> tuple[int, bytes, list[bytes], bytes]:
    """(size, leaf hash, proof, root) for entry ``index`` in the tree of ``size`` entries."""

    def work(n: int, tree: MerkleTree) -> tuple[int, bytes, list[bytes], bytes]:
        if not 0 <= index < n:
            raise ProofError(f"entry {index} is not in a tree of size {n}")
        return n, tree.leaf_hash(index), tree.inclusion_proof(index, n), tree.root(n)

    return LOG_TREE.use(size, work)


def consistency(old: int, new: int | None = None) -> tuple[int, int, bytes, bytes, list[bytes]]:
    """(old, new, old root, new root, proof) showing the old tree is a prefix of the new."""

    def work(n: int, tree: MerkleTree) -> tuple[int, int, bytes, bytes, list[bytes]]:
        if not 0 <= old <= n:
            raise ProofError(f"cannot prove consistency from size {old} to size {n}")
        return old, n, tree.root(old), tree.root(n), tree.consistency_proof(old, n)

    return LOG_TREE.use(new, work)
