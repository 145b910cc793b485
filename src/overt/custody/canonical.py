"""Canonical JSON: one byte string per logical value, so that hashes of entries are stable.

Rules (``canonical_json`` enforces all of them):

1. Output is UTF-8. Characters outside ASCII are written literally, never as ``\\u`` escapes.
2. No insignificant whitespace: ``,`` separates items and ``:`` separates keys from values;
   there is no trailing newline.
3. Object keys must be strings; they are sorted by Unicode code point, and each appears once.
4. Strings escape only ``"`` as ``\\"``, ``\\`` as ``\\\\``, and control characters
   U+0000-U+001F: ``\\b \\f \\n \\r \\t`` where JSON has a short form, otherwise ``\\u00xx``
   with lowercase hex. Lone surrogates are rejected because they cannot be encoded in UTF-8.
5. Integers are written in decimal without a sign for non-negative values, a leading ``-``
   otherwise, and no leading zeros or exponent. Values beyond +/-2**53 are exact here but may
   lose precision in JavaScript, so prefer strings for such numbers.
6. Floats are written in Python's shortest round-trip form (``repr``), e.g. ``0.1``, ``1e+16``.
   NaN and +/-Infinity are rejected. Other languages format floats differently, so entries
   meant to be re-canonicalised outside Python should not contain floats.
7. ``true``, ``false`` and ``null`` come from ``True``, ``False`` and ``None``; lists and tuples
   become arrays. Any other type (bytes, Decimal, datetime, set, ...) is rejected.

This is close to, but not, RFC 8785 (JCS): JCS sorts keys by UTF-16 code unit and formats
numbers the ECMAScript way.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical_json", "check_canonical"]


def check_canonical(obj: Any) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``obj`` has a canonical JSON form."""
    _check(obj, set())


def canonical_json(obj: Any, *, validate: bool = True) -> bytes:
    """Serialise ``obj`` to canonical JSON bytes; raise ``TypeError``/``ValueError`` otherwise.

    ``validate=False`` skips the walk over ``obj`` for callers that built it themselves and
    checked its free-form parts with ``check_canonical``: json.dumps still refuses NaN and
    non-JSON types, and the walk only adds the refusal of non-string keys and cycles.
    """
    if validate:
        _check(obj, set())
    try:
        text = json.dumps(
            obj,
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        )
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("string contains a lone surrogate, which is not valid UTF-8") from exc


def _check(obj: Any, open_containers: set[int]) -> None:
    # json.dumps silently turns int/bool/None keys into strings and would accept
    # arbitrary types through a default=; validate first so canonical form is unambiguous.
    if obj is None or isinstance(obj, str | bool | int):
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
            _check(value, open_containers)
    else:
        for item in obj:
            _check(item, open_containers)
    open_containers.discard(id(obj))
