"""Canonical JSON: one byte string per logical value, so that hashes of entries are stable.

Custody entries from version 2 on are RFC 8785 (the JSON Canonicalization Scheme, JCS),
written by the maintained ``rfc8785`` library. Anyone can re-derive an entry's bytes, and
so its leaf hash, from the parsed entry with any JCS implementation in any language:

- UTF-8 output, non-ASCII characters written literally; no insignificant whitespace;
- object keys sorted by their UTF-16 code units, each appearing once;
- strings escape only ``"``, ``\\`` and U+0000-U+001F (short forms where JSON has them);
- numbers in ECMAScript's shortest form (``1e+21``, ``0.000001``, ``-0`` as ``0``);
  integers must lie within +/-(2**53 - 1), the range every JSON reader keeps exactly.

We validate before serialising, so the errors stay ``TypeError`` for a value that JSON
cannot hold (bytes, sets, non-string keys) and ``ValueError`` for one that it can hold but
JCS refuses (NaN, Infinity, an integer beyond the safe range, a lone surrogate, a cycle).

Version 1 entries, written before JCS was adopted, used Python's ``json.dumps`` with
sorted keys (code-point order, floats in ``repr`` form). They are verified as the bytes
they were stored as; :func:`legacy_canonical_json` reproduces that form so that a check
can still confirm a version 1 entry is canonical in its own format.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

__all__ = [
    "SAFE_INTEGER",
    "canonical_json",
    "check_canonical",
    "entry_is_canonical",
    "legacy_canonical_json",
]

# Numbers beyond this lose precision in IEEE-754 doubles (RFC 8785 section 3.2.2.3, I-JSON).
SAFE_INTEGER = 2**53 - 1


def check_canonical(obj: Any) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``obj`` has a canonical JSON form."""
    _check(obj, set())


def canonical_json(obj: Any, *, validate: bool = True) -> bytes:
    """Serialise ``obj`` to RFC 8785 bytes; raise ``TypeError``/``ValueError`` otherwise.

    ``validate=False`` skips the walk over ``obj`` for callers that built it themselves and
    checked its free-form parts with ``check_canonical``; the library still refuses what
    JCS cannot represent (as ``ValueError``).
    """
    if validate:
        _check(obj, set())
    return rfc8785.dumps(obj)


def legacy_canonical_json(obj: Any) -> bytes:
    """The version 1 entry form (sorted by code point, ``repr`` floats); for checks only."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def entry_is_canonical(text: str) -> bool:
    """Whether an entry's stored text is the canonical form of its own format version."""
    try:
        body = json.loads(text)
        if isinstance(body, dict) and body.get("v") == 1:
            return legacy_canonical_json(body) == text.encode("utf-8")
        # JCS reads every number as a double; so must the check.
        return rfc8785.dumps(json.loads(text, parse_int=float)) == text.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return False


def _check(obj: Any, open_containers: set[int]) -> None:
    # Validate first so the caller learns which rule a value breaks, in one error type
    # per kind of fault, whatever the library would have said.
    if obj is None or isinstance(obj, bool):
        return
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("string contains a lone surrogate, which is not valid UTF-8") from exc
        return
    if isinstance(obj, int):
        if abs(obj) > SAFE_INTEGER:
            raise ValueError(f"integer {obj} is beyond +/-(2**53 - 1); write it as a string")
        return
    if isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise ValueError("NaN and Infinity have no JSON representation")
        return
    if not isinstance(obj, dict | list | tuple):
        raise TypeError(f"{type(obj).__name__} is not JSON-serialisable in canonical form")
    if id(obj) in open_containers:
        raise ValueError("circular reference")
    open_containers.add(id(obj))
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"object keys must be str, not {type(key).__name__}")
            _check(key, open_containers)
            _check(value, open_containers)
    else:
        for item in obj:
            _check(item, open_containers)
    open_containers.discard(id(obj))
