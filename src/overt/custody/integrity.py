"""Checks of `overt verify` around the log proper: its head row, the consistency of
successive checkpoints, and store objects that nothing in the catalogue references.

Each takes the findings (``VerifyResult``) and adds problems to it, with their place.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Protocol

from django.db import connection

from overt.evidence.models import Derivative, Original
from overt.evidence.store import EvidenceStore

from . import tree
from .errors import CustodyError
from .merkle import verify_consistency
from .triggers import HEAD


class Findings(Protocol):
    def add(self, kind: str, where: str, detail: str) -> None: ...


HEAD_WHERE = f"table {HEAD} row 1"


def read_head(result: Findings) -> int | None:
    """The head's count, or None (a problem is added) when it is missing or not a count."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, size FROM custody_custodyhead ORDER BY id")
        rows = cursor.fetchall()
    heads = dict(rows)
    for extra in sorted(set(heads) - {1}):
        result.add("log-head-altered", f"table {HEAD} row {extra}", "an extra head row was added")
    if 1 not in heads:
        with connection.cursor() as cursor:
            cursor.execute('SELECT COUNT(*) FROM custody_custodyentry WHERE "index" >= 0')
            if cursor.fetchone()[0]:
                result.add("log-head-altered", HEAD_WHERE, "the head row is gone")
        return None
    size = heads[1]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        result.add("log-head-altered", HEAD_WHERE, f"the head holds {size!r}, not a count")
        return None
    return size


def check_head_covers_entries(result: Findings) -> None:
    """Every committed entry lies below the head (both move in one transaction). The last
    index is read before the head, so entries appended meanwhile cannot look uncounted."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT MAX("index") FROM custody_custodyentry')
        (last,) = cursor.fetchone()
        cursor.execute("SELECT size FROM custody_custodyhead WHERE id = 1")
        row = cursor.fetchone()
    head = row[0] if row else None
    if last is not None and isinstance(head, int) and head <= last:
        result.add(
            "log-head-altered",
            HEAD_WHERE,
            f"the head counts {head} entries but entry {last} exists: the head was lowered, "
            "which hides the entries above it from proofs and checkpoints",
        )


# Later stages that keep objects of their own in the store (overt.cases: documents uploaded
# to a case) register, at start-up, a function naming which of some hashes they reference.
_other_catalogues: list[Callable[[list[str]], set[str]]] = []


def register_catalogue(references: Callable[[list[str]], set[str]]) -> None:
    if references not in _other_catalogues:
        _other_catalogues.append(references)


def _catalogued(shas: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(shas), 500):
        batch = shas[start : start + 500]
        found.update(Original.objects.filter(sha256__in=batch).values_list("sha256", flat=True))
        found.update(Derivative.objects.filter(sha256__in=batch).values_list("sha256", flat=True))
        for references in _other_catalogues:
            found.update(references(batch))
    return found


def check_uncatalogued(result: Findings, store: EvidenceStore, in_store: list[str]) -> None:
    """Objects listed before the re-hash and still unreferenced after it: an ingest that
    stored its bytes just before the listing has had the whole re-hash to catalogue them."""
    for sha256 in sorted(set(in_store) - _catalogued(in_store)):
        result.add(
            "object-uncatalogued",
            f"store object {sha256} at {store.location(sha256)}",
            "no original or derivative in the catalogue references it: its catalogue row was "
            "removed, or an ingest failed after storing it (it is kept, never deleted)",
        )


def check_successive(result: Findings, signed: dict[int, tuple[int, bytes]]) -> None:
    """Each validly signed checkpoint must be a prefix of the next: an RFC 9162 proof built
    from the stored leaf hashes, checked against the two signed roots."""
    sizes = sorted(set(signed.values()))
    for (old, old_root), (new, new_root) in pairwise(sizes):
        try:
            _, _, _, _, proof = tree.consistency(old, new)
        except CustodyError:
            return  # the log is damaged or shorter: the problems above already say where
        if not verify_consistency(old, new, old_root, new_root, proof):
            result.add(
                "checkpoint-inconsistent",
                f"checkpoints at sizes {old} and {new}",
                f"the signed log at {old} entries is not a prefix of the signed log at {new}: "
                "the instance signed two different histories",
            )
