"""Proofs in overt's documented JSON form (docs/custody.md), for the CLI, the API and reports.

Inclusion::

    {"leaf_index": 3, "tree_size": 10, "leaf_hash": "<hex>", "hashes": ["<hex>", ...],
     "root": "<hex>", "checkpoint": "<signed note at tree_size, or null>"}

Consistency::

    {"old_size": 4, "new_size": 10, "old_root": "<hex>", "new_root": "<hex>",
     "hashes": ["<hex>", ...]}

Hashes are lowercase hex, in RFC 9162 order (from the leaf upwards). Leaf indices count
from 0. A proof is only as good as the root it ends in: compare that root with a signed
checkpoint of the same size.
"""

from __future__ import annotations

from typing import Any

from . import tree
from .models import Checkpoint, CustodyEntry


def _note_at(size: int) -> str | None:
    return Checkpoint.objects.filter(size=size).values_list("note", flat=True).first()


def inclusion_json(
    index: int, size: int | None = None, *, with_checkpoint: bool = True
) -> dict[str, Any]:
    size, leaf, hashes, root = tree.inclusion(index, size)
    out: dict[str, Any] = {
        "leaf_index": index,
        "tree_size": size,
        "leaf_hash": leaf.hex(),
        "hashes": [h.hex() for h in hashes],
        "root": root.hex(),
    }
    if with_checkpoint:
        out["checkpoint"] = _note_at(size)
    return out


def consistency_json(old: int, new: int | None = None) -> dict[str, Any]:
    old, new, old_root, new_root, hashes = tree.consistency(old, new)
    return {
        "old_size": old,
        "new_size": new,
        "old_root": old_root.hex(),
        "new_root": new_root.hex(),
        "hashes": [h.hex() for h in hashes],
    }


def entry_json(entry: CustodyEntry) -> dict[str, Any]:
    """An entry as listed by `overt custody entries`: its index, hash and canonical text."""
    return {
        "leaf_index": entry.index,
        "leaf_hash": entry.leaf_hash,
        "recorded_at": entry.recorded_at.isoformat().replace("+00:00", "Z"),
        "action": entry.action,
        "actor": entry.actor,
        "object_sha256": entry.object_sha256,
        "entry": entry.entry,
    }
