"""A check that every catalogued derivative has its `derivative-create` custody entry."""

from __future__ import annotations

import json

from overt.custody.models import CustodyEntry
from overt.evidence.models import Derivative


def assert_every_derivative_has_its_entry() -> int:
    """Each Derivative row has exactly one `derivative-create` entry that names it, on its
    original's chain, with its kind, hash, size and provenance. Returns how many rows."""
    entries: dict[int, list[dict]] = {}
    for row in CustodyEntry.objects.filter(action="derivative-create"):
        entry = json.loads(row.entry)
        entries.setdefault(entry["object"]["ids"]["derivative"], []).append(entry)
    derivatives = list(Derivative.objects.select_related("original"))
    for derivative in derivatives:
        found = entries.get(derivative.pk, [])
        assert len(found) == 1, f"derivative {derivative.pk} has {len(found)} custody entries"
        entry = found[0]
        assert entry["object"]["sha256"] == derivative.original.sha256
        assert entry["details"]["kind"] == derivative.kind
        assert entry["details"]["sha256"] == derivative.sha256
        assert entry["details"]["size"] == derivative.size
        assert entry["details"]["generator"] == derivative.generator
        assert entry["details"]["generator_version"] == derivative.generator_version
    return len(derivatives)
