"""Canonical JSON: the exact bytes that custody entries are hashed from."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from overt.custody.canonical import canonical_json


def test_sorted_keys_and_no_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1, 2, {"d": None, "c": True}]}) == (
        b'{"a":[1,2,{"c":true,"d":null}],"b":1}'
    )


def test_non_ascii_is_literal_utf8() -> None:
    assert canonical_json({"name": "Zoë 東京"}) == '{"name":"Zoë 東京"}'.encode()


def test_keys_sort_by_code_point() -> None:
    # "Z" (U+005A) < "a" (U+0061) < "é" (U+00E9) < "😀" (U+1F600)
    expected = '{"Z":0,"a":0,"é":0,"😀":0}'.encode()
    assert canonical_json({"é": 0, "a": 0, "😀": 0, "Z": 0}) == expected


def test_string_escapes() -> None:
    assert canonical_json('q"b\\n\n\t\x01\x1f\x7f') == b'"q\\"b\\\\n\\n\\t\\u0001\\u001f\x7f"'


def test_numbers() -> None:
    assert canonical_json([0, -1, 2**64, 0.1, 1e16, -0.0, False]) == (
        b"[0,-1,18446744073709551616,0.1,1e+16,-0.0,false]"
    )


def test_tuples_are_arrays_and_no_trailing_newline() -> None:
    assert canonical_json(("a", ())) == b'["a",[]]'


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, {"x": [math.nan]}])
def test_rejects_nan_and_infinity(value: object) -> None:
    with pytest.raises(ValueError):
        canonical_json(value)


@pytest.mark.parametrize("key", [1, 1.5, None, True, ("t",)])
def test_rejects_non_str_keys(key: object) -> None:
    with pytest.raises(TypeError):
        canonical_json({key: 1})


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, object(), {"nested": [b"x"]}])
def test_rejects_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        canonical_json(value)


def test_rejects_lone_surrogate() -> None:
    with pytest.raises(ValueError):
        canonical_json({"k": "\ud800"})


def test_rejects_circular_reference() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError):
        canonical_json(loop)


def test_shared_subobjects_are_not_circular() -> None:
    shared = {"x": 1}
    assert canonical_json([shared, shared]) == b'[{"x":1},{"x":1}]'


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_round_trips_and_is_idempotent(value: object) -> None:
    encoded = canonical_json(value)
    decoded = json.loads(encoded.decode("utf-8"))
    assert decoded == value
    assert canonical_json(decoded) == encoded
