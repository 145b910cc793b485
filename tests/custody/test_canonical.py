"""Canonical JSON: the exact bytes that custody entries are hashed from (RFC 8785)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from overt.custody.canonical import SAFE_INTEGER, canonical_json, legacy_canonical_json

JCS_VECTORS = Path(__file__).parent / "data" / "jcs"


def test_sorted_keys_and_no_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1, 2, {"d": None, "c": True}]}) == (
        b'{"a":[1,2,{"c":true,"d":null}],"b":1}'
    )


def test_non_ascii_is_literal_utf8() -> None:
    assert canonical_json({"name": "Zoë 東京"}) == '{"name":"Zoë 東京"}'.encode()


def test_keys_sort_by_utf16_code_unit() -> None:
    # U+1F600 is the surrogate pair D83D DE00 in UTF-16, so it sorts before U+FB33:
    # JCS's order, where code-point order would put it last.
    expected = '{"Z":0,"a":0,"é":0,"\U0001f600":0,"\ufb33":0}'.encode()
    assert canonical_json({"\ufb33": 0, "é": 0, "a": 0, "\U0001f600": 0, "Z": 0}) == expected


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (JCS_VECTORS / "input").glob("*.json"))
)
def test_published_rfc8785_vectors(name: str) -> None:
    source = json.loads((JCS_VECTORS / "input" / f"{name}.json").read_text("utf-8"))
    assert canonical_json(source) == (JCS_VECTORS / "output" / f"{name}.json").read_bytes()


@pytest.mark.parametrize(
    ("ieee_hex", "expected"),
    [  # from the RFC 8785 author's number test file (testdata/README.md)
        ("4340000000000001", "9007199254740994"),
        ("4340000000000002", "9007199254740996"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("8000000000000000", "0"),
        ("0", "0"),
    ],
)
def test_numbers_in_ecmascript_form(ieee_hex: str, expected: str) -> None:
    import struct

    value = struct.unpack(">d", bytes.fromhex(ieee_hex.rjust(16, "0")))[0]
    assert canonical_json(value) == expected.encode()


def test_version_1_form_is_kept_for_checking_old_entries() -> None:
    assert legacy_canonical_json({"b": 1e16, "a": 0.000001}) == b'{"a":1e-06,"b":1e+16}'


def test_string_escapes() -> None:
    assert canonical_json('q"b\\n\n\t\x01\x1f\x7f') == b'"q\\"b\\\\n\\n\\t\\u0001\\u001f\x7f"'


def test_numbers() -> None:
    assert canonical_json([0, -1, SAFE_INTEGER, 0.1, 1e16, -0.0, False]) == (
        b"[0,-1,9007199254740991,0.1,10000000000000000,0,false]"
    )


@pytest.mark.parametrize("value", [SAFE_INTEGER + 1, -SAFE_INTEGER - 1, 2**64])
def test_rejects_integers_a_double_cannot_hold(value: int) -> None:
    with pytest.raises(ValueError, match="string"):
        canonical_json({"size": value})


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
    | st.integers(min_value=-SAFE_INTEGER, max_value=SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False).map(lambda x: x or 0.0)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_round_trips_and_is_idempotent(value: object) -> None:
    encoded = canonical_json(value)
    # JCS numbers are IEEE-754 doubles: read them back as a JCS reader would.
    decoded = json.loads(encoded.decode("utf-8"), parse_int=float)
    assert decoded == value
    assert canonical_json(decoded) == encoded
