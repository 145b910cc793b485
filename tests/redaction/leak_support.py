"""Helpers shared by the leak-check tests (page, API and CLI)."""

from __future__ import annotations

import json

from overt.custody.models import CustodyEntry


def steps(sha256: str) -> list[dict]:
    """The details of the `redaction` custody entries about an object, in log order."""
    entries = CustodyEntry.objects.filter(object_sha256=sha256, action="redaction")
    return [json.loads(e.entry)["details"] for e in entries.order_by("index")]
