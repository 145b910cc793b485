"""An outsider reproduces every entry's bytes and leaf hash with any RFC 8785 library."""

from __future__ import annotations

import hashlib
import json

import pytest
import rfc8785
from django.db import transaction

from overt.custody.models import CustodyEntry
from overt.custody.services import ENTRY_VERSION, Actor, Client, Subject, record

pytestmark = pytest.mark.django_db


def test_entries_are_jcs_and_their_leaf_hashes_follow() -> None:
    with transaction.atomic():
        # Keys whose UTF-16 order differs from code-point order, numbers whose ECMAScript
        # form differs from Python's, and text that JSON must escape.
        details = {"\ufb33": 1, "\U0001f600": 2, "ratio": 1e16, "small": 0.000001, "note": 'a"\n\x01'}
        record(
            "view",
            Actor("user", "alice"),
            Subject("ab" * 32, {"recording": 7}),
            justification="statement writing — Zoë",
            client=Client("192.0.2.1", "Firefox"),
            details=details,
        )
    entry = CustodyEntry.objects.order_by("-index").first()
    assert entry is not None
    data = entry.entry.encode("utf-8")
    parsed = json.loads(data)
    assert parsed["v"] == ENTRY_VERSION >= 2
    # JCS numbers are IEEE-754 doubles, so read them as a JCS reader does.
    assert rfc8785.dumps(json.loads(data, parse_int=float)) == data
    assert b'"ratio":10000000000000000' in data and b'"small":0.000001' in data
    assert data.index("\U0001f600".encode()) < data.index("\ufb33".encode())
    assert entry.leaf_hash == hashlib.sha256(b"\x00" + data).hexdigest()


def test_an_integer_no_reader_keeps_exactly_is_refused_before_anything_is_written() -> None:
    before = CustodyEntry.objects.count()
    with pytest.raises(ValueError, match="string"), transaction.atomic():
        record("view", Actor("user", "alice"), Subject("ab" * 32), details={"n": 2**60})
    assert CustodyEntry.objects.count() == before
